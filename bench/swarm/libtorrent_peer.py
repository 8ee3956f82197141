#!/usr/bin/python3
"""The benchmark's yardstick: a libtorrent peer (python3-libtorrent, Debian).

  libtorrent_peer.py seed TORRENT SAVE_PATH
      Checks the file (not seed_mode: that would hash each piece on its first
      request, during the timed downloads), then seeds on 127.0.0.1, prints
      {"port": N, "infohash": HEX} and runs until SIGTERM or stdin closes.
  libtorrent_peer.py fetch TORRENT SAVE_PATH [HOST:]PORT[,[HOST:]PORT...]
      Downloads from the given seeders (127.0.0.1 without HOST) and prints one JSON line: wall
      time from add_torrent to torrent_finished_alert, CPU of the process
      over the same span, and its peak RSS (VmHWM) at the end.

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
TIMEOUT = float(os.environ.get('LT_TIMEOUT', '120'))  # s; bench/wan allows more (a loss-based congestion control is slow under loss)


def session():
    ses = lt.session(SETTINGS)
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


def seed(torrent, save_path):
    ses = session()
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


def peer_address(spec):
    host, _, port = spec.rpartition(':')
    return (host or '127.0.0.1', int(port))


def fetch(torrent, save_path, peers):
    ses = session()
    atp = params(torrent, save_path)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    h = ses.add_torrent(atp)
    for p in peers:
        h.connect_peer(p)
    finished = None
    while finished is None:
        if time.monotonic() - t0 > TIMEOUT:
            sys.exit('libtorrent download: not finished in %d s' % TIMEOUT)
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            if isinstance(a, lt.torrent_finished_alert):
                finished = time.monotonic()
            elif isinstance(a, (lt.torrent_error_alert, lt.file_error_alert)):
                sys.exit('libtorrent download: %s' % a.message())
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    st = h.status()
    print(json.dumps({
        'ms': (finished - t0) * 1000,
        'cpuUserMs': (cpu1.ru_utime - cpu0.ru_utime) * 1000,
        'cpuSystemMs': (cpu1.ru_stime - cpu0.ru_stime) * 1000,
        'peakKiB': peak_kib(),
        'downloaded': st.total_payload_download,
        'peers': st.num_peers,
    }), flush=True)
    os._exit(0)


if __name__ == '__main__':
    mode = sys.argv[1] if len(sys.argv) > 1 else ''
    if mode == 'seed' and len(sys.argv) == 4:
        seed(sys.argv[2], sys.argv[3])
    elif mode == 'fetch' and len(sys.argv) == 5:
        fetch(sys.argv[2], sys.argv[3], [peer_address(p) for p in sys.argv[4].split(',')])
    else:
        sys.exit(__doc__)
