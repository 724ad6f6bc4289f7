#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into fuzz/seeds/<target>/ (small, committed).

Run from anywhere: `python3 fuzz/make_seeds.py`. cph_sim_auth and paging take structured
(`arbitrary`) input and start from an empty corpus, so they have no seeds here.
"""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


class Ext:
    def __init__(self, kind, data):
        self.kind, self.data = kind, data


def mp(v):
    """A minimal msgpack encoder: enough for the seeds."""
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, Ext):
        if len(v.data) == 1:
            return bytes([0xD4, v.kind & 0xFF]) + v.data
        return bytes([0xC7, len(v.data), v.kind & 0xFF]) + v.data
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        return b"\xd9" + bytes([len(b)]) + b
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)


UNKNOWN = Ext(0, b"\x00")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def ty(t):
    return json.dumps(t, separators=(",", ":")).encode()


def msgpack_seeds():
    job = {"phone_id": "p1", "job_id": UNKNOWN, "status": "2", "properties": {"k": "v"}}
    resource = {
        "id": UNKNOWN,
        "phones": [job, {"phone_id": "p2", "job_id": None, "status": None, "properties": None}],
        "request_ids": ["r1", "r2"],
        "triggers": {"a": "1"},
        "allow_partial_failure": True,
        "count": 12345678901,
        "pair": ["x", 1.5],
        "any": [ty(["object", {"a": "string", "b": ["list", "number"]}]), {"a": "s", "b": [1, 2]}],
    }
    write("tfplugin_msgpack", "resource", b"\x00" + mp(resource))
    write("tfplugin_msgpack", "dynamic_list", b"\x01" + mp([ty(["list", "string"]), ["a", "b"]]))
    write("tfplugin_msgpack", "dynamic_tuple", b"\x01" + mp([ty(["tuple", ["bool", "dynamic"]]), [True, None]]))
    write("tfplugin_msgpack", "dynamic_unknown", b"\x01" + mp(UNKNOWN))
    # Found by this target's round-trip check (a crafted input, see README): mixed elements.
    write("tfplugin_msgpack", "dynamic_list_of_mixed",
          b"\x01" + mp([ty(["list", "dynamic"]), [[ty("string"), "a"], [ty("number"), 1], None]]))
    write("tfplugin_msgpack", "list_of_dynamic", b"\x02" + mp([[ty("string"), "a"], None]))
    write("tfplugin_msgpack", "map_of_dynamic", b"\x03" + mp({"k": [ty(["map", "bool"]), {"x": True}]}))
    write("tfplugin_msgpack", "set_of_objects", b"\x04" + mp([{"a": [1, 2.25], "b": {"t": False}}]))
    write("tfplugin_msgpack", "jobs", b"\x05" + mp([job]))
    write("tfplugin_msgpack", "big_number", b"\x06" + mp("-123456789012345678901234567890.5"))
    write("tfplugin_msgpack", "refined_unknown", b"\x07" + mp(Ext(12, b"\x81\x01\xc3")))


def json_seeds():
    state = {
        "id": "r-1",
        "phones": [{"phone_id": "p1"}],
        "jobs": [{"phone_id": "p1", "job_id": "j1", "status": "success", "error_code": None}],
        "request_ids": ["r1"],
        "triggers": {"a": "1"},
        "properties": {"sys.prop.writephonenum": "13666666666"},
        "allow_partial_failure": False,
        "timeout_seconds": 600,
        "removed_attribute": True,
    }
    seeds = {
        "state": (0, state),
        "jobs": (1, state["jobs"]),
        "set_of_maps": (2, [{"a": [1, 2.5, "3"]}]),
        "tuple": (3, ["x", "true", 1e3]),
        "dynamic": (4, {"value": {"a": [1, 2]}, "type": ["object", {"a": ["list", "number"]}]}),
        "object_with_dynamic": (5, {"any": {"value": "s", "type": "string"}, "n": "12345678901234567890.25"}),
        "number": (6, 12345678901234567890),
        "string": (7, "text"),
        "bool": (8, "false"),
    }
    for name, (sel, doc) in seeds.items():
        write("tfplugin_json", name, bytes([sel]) + json.dumps(doc).encode())


def types_seeds():
    props = json.dumps({"sys.prop.writephonenum": "13666666666", "com.cph.mainkeys": "1",
                        "persist.sys.locale": "zh-CN", "gsm.sim.operator.alpha": "中国移动 (CMCC)",
                        "qemu.hw.mainkeys": "0", "vendor.x": 1, "n": None})
    seeds = {
        "property_string": props,
        "property_bandwidth": '{"com.cph.bandwidth_limit":"99999999","sys.prop.writewifissid":"cloud wifi"}',
        "phone_id": "0123456789abcdef0123456789abcdef",
        "bucket": "my-bucket.01",
        "batch_response": json.dumps({"request_id": "r1", "jobs": [
            {"phone_id": "p1", "job_id": "j1"},
            {"phone_id": "p2", "error_code": "CPS.0004", "error_msg": "Parameter: phone_id is invalid."}]}),
        "list_jobs": '{"request_id":"r","jobs":[{"job_id":"a","phone_id":"p","status":1,"begin_time":"2024-01-02T03:04:05Z"},"garbage",7,{"job_id":"b","status":"-1"}]}',
        "show_job": '{"request_id":"r","job_id":"j","status":"2","error_code":"","error_msg":null,"begin_time":"2024-01-02T03:04:05Z"}',
        "list_phones": '{"request_id":"r","count":"3","phones":[{"phone_id":"p","status":2,"phone_name":"n"}]}',
        "phone_detail": json.dumps({"request_id": "r", "phone_id": "p", "status": 2, "type": "0",
                                    "phone_name": "n", "property": props, "custom_property": "",
                                    "access_infos": [{"type": "adb", "listen_port": 5555}],
                                    "phone_data_volume": {"volume_size": 16}}),
        "error_body": '{"request_id":"r9","error_code":"APIG.0308","error_msg":"rate limited"}',
    }
    for name, text in seeds.items():
        write("cph_types_validate", name, text.encode())


def provider_seeds():
    """provider_state: a version byte (0, 1 or 2), then the JSON state that version wrote."""
    record = {"phone_id": "a", "request_id": "q", "job_id": "j", "status": "success", "error_code": "",
              "error_msg": "", "begin_time": "", "end_time": ""}
    seeds = {
        "restart_v2": (2, {"id": "r", "phone_ids": ["a", "b"], "phones": None, "allow_partial_failure": False,
                           "jobs": {"a": record, "b": dict(record, phone_id="b", job_id="k", status="running")},
                           "request_ids": ["q"], "triggers": None, "image_id": None, "timeouts": None}),
        "property_v1": (1, {"id": "r", "phones": [{"phone_id": "a", "properties": {"k": "v"}}],
                            "restart_after_update": True,
                            "jobs": {"a": {"phone_id": "a", "job_id": "j", "status": "failed"}},
                            "restart_jobs": {}}),
        "restore_v0": (0, {"id": "r", "phones": [{"phone_id": "a", "bucket_name": "b", "object_path": "p"}],
                           "jobs": [{"phone_id": "a", "job_id": "j", "status": "success"},
                                    {"phone_id": "a", "job_id": "", "status": "failed"}],
                           "restart_jobs": None}),
    }
    for name, (version, state) in seeds.items():
        write("provider_state", name, bytes([version]) + json.dumps(state).encode())


def phone_ids_seeds():
    """phone_ids: a mode byte (0 msgpack, 1 JSON, else structured), then a resource-like object."""
    a, b = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
    msgpack = {
        "ids_with_problems": {"phone_ids": [a, b, a, None, UNKNOWN, "bad id!", ""]},
        "ids_unknown": {"phone_ids": UNKNOWN, "state": "running"},
        "ids_empty": {"phone_ids": [], "state": "stopped"},
        "phones_with_properties": {"phones": [
            {"phone_id": a, "properties": {"com.cph.mainkeys": "1", "k": UNKNOWN}},
            {"phone_id": UNKNOWN, "properties": None},
            {"phone_id": a, "factory_reset": True}], "restart_after_update": True},
        "both_set": {"phones": [{"phone_id": a}], "phone_ids": [b], "image_id": "img"},
        "neither_set": {"triggers": {"t": "1"}, "allow_partial_failure": True},
    }
    for name, doc in msgpack.items():
        write("phone_ids", name, b"\x00" + mp(doc))
    documents = {
        "json_restore": {"phones": [{"phone_id": a, "bucket_name": "bkt", "object_path": "p/a.tar",
                                     "include_files": ["/data/app"], "exclude_files": ["/data/app/x"]},
                                    None, {"phone_id": None}]},
        "json_power": {"phone_ids": [a, b, b], "state": "stopped"},
    }
    for name, doc in documents.items():
        write("phone_ids", name, b"\x01" + json.dumps(doc).encode())


if __name__ == "__main__":
    msgpack_seeds()
    json_seeds()
    types_seeds()
    provider_seeds()
    phone_ids_seeds()
