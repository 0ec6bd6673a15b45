"""The python-zeroconf side of test/interop/zeroconf.test.ts, run inside a network namespace.

  browse TIMEOUT_S               print one JSON line per _netref._tcp service found (resolved), then {"done": true}
  register INSTANCE PORT NAMES V ADDRESS
                                 announce INSTANCE._netref._tcp.local. (host pyhost.local. at ADDRESS) with TXT
                                 names=NAMES, v=V, auth=none; print {"registered": ...}; withdraw when stdin ends
"""
import json
import socket
import sys
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

TYPE = "_netref._tcp.local."


def out(obj):
    print(json.dumps(obj), flush=True)


def browse(timeout_s):
    zc = Zeroconf(ip_version=IPVersion.V4Only)
    seen = set()
    lock = threading.Lock()

    def on_change(zeroconf, service_type, name, state_change):
        if state_change is not ServiceStateChange.Added:
            return
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        with lock:
            if info is None or name in seen:
                return
            seen.add(name)
            props = {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()}
            out({
                "found": name,
                "server": info.server,
                "port": info.port,
                "addresses": [socket.inet_ntoa(a) for a in info.addresses],
                "txt": props,
            })

    browser = ServiceBrowser(zc, TYPE, handlers=[on_change])
    time.sleep(timeout_s)
    browser.cancel()
    zc.close()
    out({"done": True})


def register(instance, port, names, version, address):
    zc = Zeroconf(ip_version=IPVersion.V4Only)
    info = ServiceInfo(
        TYPE,
        f"{instance}.{TYPE}",
        addresses=[socket.inet_aton(address)],
        port=port,
        properties={"names": names, "v": version, "auth": "none"},
        server="pyhost.local.",
    )
    zc.register_service(info)
    out({"registered": f"{instance}.{TYPE}", "port": port})
    sys.stdin.read()
    zc.unregister_service(info)
    zc.close()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "browse":
        browse(float(sys.argv[2]))
    elif mode == "register":
        register(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6])
    else:
        raise SystemExit(f"unknown mode {mode}")
