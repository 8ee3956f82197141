#!/usr/bin/python3
"""The benchmark's yardstick: a libtorrent peer (python3-libtorrent, Debian).

  libtorrent_peer.py seed TORRENT SAVE_PATH [--forced-encryption]
      Checks the file (not seed_mode: that would hash each piece on its first
      request, during the timed downloads), then seeds on 127.0.0.1, prints
      {"port": N, "infohash": HEX} and runs until SIGTERM or stdin closes.
  libtorrent_peer.py fetch TORRENT SAVE_PATH [HOST:]PORT[,[HOST:]PORT...] [--forced-encryption]
      Downloads from the given seeders (127.0.0.1 without HOST) and prints one JSON line: wall
      time from add_torrent to torrent_finished_alert, CPU of the process
      over the same span, its peak RSS (VmHWM) at the end, and how its peer
      connections were encrypted (peer_info flags, sampled during the run).

--forced-encryption: libtorrent's own encryption (MSE/PE) forced both ways
(out_enc_policy and in_enc_policy = forced) at level RC4 with prefer_rc4, so
the whole stream is RC4-encrypted (level "both" with prefer_rc4 off settles
on plaintext after an encrypted handshake); plaintext peers are refused.

Settings from /work/shared/NOTES.md: uTP off (it managed ~6 MB/s on
loopback), several connections per IP allowed (else it talks to one local
peer only), DHT/LSD/UPnP/NAT-PMP off, listening on 127.0.0.1 only.
"""
import json
import os
import resource
import signal
import sys
import threading
import time

import libtorrent as lt

SETTINGS = {
    'listen_interfaces': os.environ.get('LT_LISTEN', '127.0.0.1:0'),
    'enable_outgoing_utp': False,
    'enable_incoming_utp': False,
    'allow_multiple_connections_per_ip': True,
    'enable_dht': False,
    'enable_lsd': False,
    'enable_upnp': False,
    'enable_natpmp': False,
    'alert_mask': lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
}
FORCED_ENCRYPTION = {
    'out_enc_policy': int(lt.enc_policy.forced),
    'in_enc_policy': int(lt.enc_policy.forced),
    'allowed_enc_level': int(lt.enc_level.rc4),
    'prefer_rc4': True,
}
TIMEOUT = float(os.environ.get('LT_TIMEOUT', '120'))  # s; bench/wan allows more (a loss-based congestion control is slow under loss)


def session(forced):
    ses = lt.session(dict(SETTINGS, **(FORCED_ENCRYPTION if forced else {})))
    deadline = time.monotonic() + 10
    while not ses.is_listening():
        if time.monotonic() > deadline:
            sys.exit('libtorrent did not start listening')
        time.sleep(0.01)
    return ses


def params(torrent, save_path, flags=0):
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    atp.flags = (atp.flags | flags) & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
    return atp


def peak_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return None


def seed(torrent, save_path, forced):
    ses = session(forced)
    atp = params(torrent, save_path)
    h = ses.add_torrent(atp)
    deadline = time.monotonic() + TIMEOUT
    while not h.status().is_seeding:
        if time.monotonic() > deadline:
            sys.exit('libtorrent seeder: the file did not check out (%s)' % h.status().state)
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                sys.exit('libtorrent seeder: %s' % a.message())
    print(json.dumps({'port': ses.listen_port(), 'infohash': str(atp.ti.info_hashes().v1)}), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())

    def watch_stdin():
        sys.stdin.read()  # EOF: the parent is gone
        done.set()
    threading.Thread(target=watch_stdin, daemon=True).start()
    while not done.wait(0.2):
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_error_alert):
                print('seeder: %s' % a.message(), file=sys.stderr, flush=True)
    if not h.status().is_seeding:
        print('seeder: not seeding (%s)' % h.status().state, file=sys.stderr, flush=True)
    os._exit(0)  # the session's destructor can take seconds


def links(h, seen):
    """Records each connected peer's encryption: rc4 (the whole stream), plaintext_encrypted (handshake only) or none."""
    for p in h.get_peer_info():
        if p.flags & lt.peer_info.rc4_encrypted:
            kind = 'rc4'
        elif p.flags & lt.peer_info.plaintext_encrypted:
            kind = 'plaintext_encrypted'
        else:
            kind = 'none'
        seen['%s:%d' % p.ip] = kind


def peer_address(spec):
    host, _, port = spec.rpartition(':')
    return (host or '127.0.0.1', int(port))


def fetch(torrent, save_path, peers, forced):
    ses = session(forced)
    atp = params(torrent, save_path)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    h = ses.add_torrent(atp)
    for p in peers:
        h.connect_peer(p)
    finished = None
    seen = {}
    while finished is None:
        if time.monotonic() - t0 > TIMEOUT:
            sys.exit('libtorrent download: not finished in %d s' % TIMEOUT)
        ses.wait_for_alert(100)
        links(h, seen)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_finished_alert):
                finished = time.monotonic()
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                sys.exit('libtorrent download: %s' % a.message())
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    links(h, seen)
    st = h.status()
    print(json.dumps({
        'ms': (finished - t0) * 1000,
        'cpuUserMs': (cpu1.ru_utime - cpu0.ru_utime) * 1000,
        'cpuSystemMs': (cpu1.ru_stime - cpu0.ru_stime) * 1000,
        'peakKiB': peak_kib(),
        'downloaded': st.total_payload_download,
        'peers': st.num_peers,
        'encryption': {k: sum(1 for v in seen.values() if v == k) for k in ('rc4', 'plaintext_encrypted', 'none')},
    }), flush=True)
    os._exit(0)


if __name__ == '__main__':
    argv = [a for a in sys.argv[1:] if a != '--forced-encryption']
    forced = len(argv) < len(sys.argv) - 1
    mode = argv[0] if argv else ''
    if mode == 'seed' and len(argv) == 3:
        seed(argv[1], argv[2], forced)
    elif mode == 'fetch' and len(argv) == 4:
        fetch(argv[1], argv[2], [peer_address(p) for p in argv[3].split(',')], forced)
    else:
        sys.exit(__doc__)
