#!/usr/bin/python3
"""A stock libtorrent client that holds a .torrent and knows one seeder's
address, for test/swarm/strangers.test.ts.

Usage: libtorrent_peer.py TORRENT SAVE_DIR PORT SECONDS [ENCRYPTION]

ENCRYPTION is 'plaintext' (default: outgoing connections use the plain
BitTorrent handshake) or 'enabled' (libtorrent's default: try the encrypted
handshake first, then retry in plaintext).

Runs for SECONDS, then prints one JSON line on stdout:
  total_payload_download, total_download, num_peers (at the end),
  max_num_peers, progress, pieces (verified), ever_connected (a peer's
  BitTorrent handshake arrived), connects and disconnects (with seconds since the
  first connect_peer and libtorrent's reason), the peer clients seen, the
  infohash libtorrent computed and its listen port.
Exits 3 when libtorrent cannot be imported (Debian: python3-libtorrent).
"""
import json
import sys
import time

try:
    import libtorrent as lt
except ImportError as err:  # the test turns this into a clear failure
    print(json.dumps({"error": "python3-libtorrent is not installed: %s" % err}))
    sys.exit(3)


def main():
    torrent_path, save_dir, port, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    encryption = sys.argv[5] if len(sys.argv) > 5 else "plaintext"

    settings = {
        "listen_interfaces": "127.0.0.1:0",
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_natpmp": False,
        "enable_upnp": False,
        "alert_mask": lt.alert.category_t.all_categories,
    }
    if encryption == "plaintext":
        settings["out_enc_policy"] = int(lt.enc_policy.disabled)
        settings["in_enc_policy"] = int(lt.enc_policy.enabled)
    ses = lt.session(settings)

    info = lt.torrent_info(torrent_path)
    handle = ses.add_torrent({"ti": info, "save_path": save_dir})
    start = time.monotonic()
    handle.connect_peer(("127.0.0.1", port))

    connects, disconnects = [], []
    ever_connected = False
    clients = set()
    max_peers = 0
    deadline = start + seconds
    while time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for a in ses.pop_alerts():
            t = round(time.monotonic() - start, 3)
            if isinstance(a, lt.peer_connect_alert):
                connects.append({"t": t})
            elif isinstance(a, (lt.peer_disconnected_alert, lt.peer_error_alert)):
                handshaken = not a.pid.is_all_zeros()
                ever_connected = ever_connected or handshaken
                disconnects.append({"t": t, "handshake": handshaken, "reason": a.message()})
        status = handle.status()
        max_peers = max(max_peers, status.num_peers)
        # a peer whose BitTorrent handshake arrived has a peer id
        for p in handle.get_peer_info():
            if not p.pid.is_all_zeros():
                ever_connected = True
                client = p.client
                clients.add(client.decode("utf-8", "replace") if isinstance(client, bytes) else str(client))

    status = handle.status()
    out = {
        "total_payload_download": status.total_payload_download,
        "total_download": status.total_download,
        "num_peers": status.num_peers,
        "max_num_peers": max_peers,
        "progress": status.progress,
        "pieces": sum(1 for p in status.pieces if p),
        "ever_connected": ever_connected,
        "clients": sorted(clients),
        "info_hash": str(info.info_hash()),
        "connects": connects,
        "disconnects": disconnects,
        "listen_port": ses.listen_port(),
        "libtorrent": lt.__version__,
    }
    ses.remove_torrent(handle)
    print(json.dumps(out), flush=True)


main()
