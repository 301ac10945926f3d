"""taboot ingest and the Python recipe (qdrant-client upload_collection) side by side on a real Qdrant.

Both upload the same generated points (1024-dim, seeded; base64 float32 JSONL for taboot, numpy
for Python, with the same ids and payloads) into a fresh collection each, created with the seed's
settings (HNSW m=32, ef_construct=256, int8 scalar quantization at 0.99 in RAM, the payload
indexes of taboot.config.json), batch 500, 4 in flight, wait=false. Runs alternate, taboot first,
so that a noisy machine hurts both alike. For every run it measures:

- the tool's own vec/s (taboot's summary; for Python, points over the upload_collection call);
- launch until Qdrant counts every point (exact count polled every 50 ms), as vec/s;
- Qdrant's CPU seconds from launch until counted (utime + stime of its process);
- the client's CPU seconds and peak RSS over all its processes (upload_collection's workers are
  children of a forkserver, which the client's own rusage does not count): the client runs in a
  session of its own, whose processes are sampled from /proc every 50 ms (CPU: the larger of
  that and the client's rusage; RSS: the peak of the sum);
- Qdrant's calls per method during the run (REST /telemetry?details_level=3, gRPC and REST).

Prints a table of every run, the medians and their ratios, then one JSON line. See the README's
performance section; run it with scripts/compare-python/run.sh.
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TABOOT_NAMESPACE = uuid.UUID("3d805437-e660-4cb9-aa3e-b2a0fcd00983")
WORDS = ["scrape", "target", "alert", "rule", "metric", "label", "query", "storage", "remote", "write"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def http(method: str, url: str, body: object | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Qdrant:
    """A Qdrant to measure: started here from the binary, or one already running (its pid optional)."""

    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.process = None
        if args.qdrant_url:
            self.rest = args.qdrant_url.rstrip("/")
            self.host = self.rest.split("://", 1)[1].split(":")[0]
            self.http_port = int(self.rest.rsplit(":", 1)[1])
            self.grpc_port = args.qdrant_grpc_port
            self.pid = args.qdrant_pid
            return
        binary = Path(args.qdrant_binary)
        if binary.suffix == ".xz":
            unpacked = workdir / "qdrant"
            with open(unpacked, "wb") as out:
                subprocess.run(["xz", "-dc", str(binary)], stdout=out, check=True)
            unpacked.chmod(0o755)
            binary = unpacked
        self.host = "127.0.0.1"
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.rest = f"http://{self.host}:{self.http_port}"
        storage = workdir / "qdrant-storage"
        env = dict(
            os.environ,
            QDRANT__STORAGE__STORAGE_PATH=str(storage / "storage"),
            QDRANT__STORAGE__SNAPSHOTS_PATH=str(storage / "snapshots"),
            QDRANT__SERVICE__HTTP_PORT=str(self.http_port),
            QDRANT__SERVICE__GRPC_PORT=str(self.grpc_port),
            QDRANT__TELEMETRY_DISABLED="true",
            QDRANT__LOG_LEVEL="WARN",
        )
        self.log = open(workdir / "qdrant.log", "w")
        self.process = subprocess.Popen([str(binary)], cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = self.process.pid
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.rest}/readyz", timeout=2).read()
                break
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"Qdrant did not start; see {workdir / 'qdrant.log'}")
                time.sleep(0.2)

    def cpu_seconds(self) -> float | None:
        if self.pid is None:
            return None
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def calls(self) -> dict[str, int]:
        """Calls per method so far, gRPC and REST together."""
        telemetry = http("GET", f"{self.rest}/telemetry?details_level=3")["result"]["requests"]
        counts: dict[str, int] = {}
        for kind in ("grpc", "rest"):
            for method, by_status in (telemetry.get(kind, {}).get("responses") or {}).items():
                counts[method] = counts.get(method, 0) + sum(entry.get("count", 0) for entry in by_status.values())
        return counts

    def count(self, collection: str) -> int:
        return http("POST", f"{self.rest}/collections/{collection}/points/count", {"exact": True})["result"]["count"]

    def create(self, collection: str, dim: int, indexes: dict) -> None:
        http(
            "PUT",
            f"{self.rest}/collections/{collection}",
            {
                "vectors": {"size": dim, "distance": "Cosine"},
                "hnsw_config": {"m": 32, "ef_construct": 256, "full_scan_threshold": 10000},
                "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": True}},
                "optimizers_config": {
                    "default_segment_number": 2,
                    "max_segment_size": 500000,
                    "indexing_threshold": 20000,
                },
            },
        )
        for field, schema in indexes.items():
            kind = schema if isinstance(schema, str) else schema["type"]
            http("PUT", f"{self.rest}/collections/{collection}/index?wait=true", {"field_name": field, "field_schema": kind})

    def drop(self, collection: str) -> None:
        http("DELETE", f"{self.rest}/collections/{collection}")

    def close(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.log.close()


def generate(folder: Path, count: int, dim: int, seed: int) -> None:
    """The same points for both: vectors.npy and points.json for Python, vectors.jsonl for taboot."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, dim), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    np.save(folder / "vectors.npy", vectors)
    ids, payloads = [], []
    with open(folder / "vectors.jsonl", "w", encoding="utf-8") as jsonl:
        for i in range(count):
            doc_id = f"doc-{i}"
            text = " ".join(WORDS[j] for j in rng.integers(0, len(WORDS), 60))
            service = WORDS[i % len(WORDS)]
            record = {"id": doc_id, "text": text, "service_name": service}
            record["vector"] = base64.b64encode(vectors[i].astype("<f4").tobytes()).decode()
            jsonl.write(json.dumps(record) + "\n")
            # What taboot writes for the line: its point id and payload (doc_hash is taboot's own hash).
            ids.append(str(uuid.uuid5(TABOOT_NAMESPACE, f"{doc_id}\x000")))
            payloads.append(
                {
                    "service_name": service,
                    "doc_id": doc_id,
                    "source": folder.name,
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "doc_hash": hashlib.sha256(text.encode()).hexdigest(),
                    "content": text,
                    "section": "",
                }
            )
    with open(folder / "points.json", "w", encoding="utf-8") as out:
        json.dump({"ids": ids, "payloads": payloads}, out)


def measure(qdrant: Qdrant, collection: str, count: int, command: list[str], env: dict, cwd: Path) -> dict:
    """Runs one client from launch until Qdrant counts every point; its figures."""
    calls_before = qdrant.calls()
    cpu_before = qdrant.cpu_seconds()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        client = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=stdout, stderr=stderr, start_new_session=True
        )
        tree = ProcessTree(client.pid)
        counted_at = None
        ended = None
        while counted_at is None:
            tree.sample()
            if qdrant.count(collection) >= count:
                counted_at = time.perf_counter()
            elif ended is None:
                ended = reap(client.pid, os.WNOHANG)
                if ended is not None and ended[0] != 0:
                    break
                time.sleep(0.05)
            else:
                time.sleep(0.05)
        qdrant_cpu = None if cpu_before is None else qdrant.cpu_seconds() - cpu_before
        while ended is None:
            tree.sample()
            ended = reap(client.pid, os.WNOHANG)
            time.sleep(0.02)
        code, usage = ended
        stdout.seek(0)
        stderr.seek(0)
        output = stdout.read().decode()
        errors = stderr.read().decode()
    if code != 0 or counted_at is None:
        raise SystemExit(f"{command[0]} exited {code}: {errors[-2000:]}")
    calls_after = qdrant.calls()
    # Leaves out this script's own polling of the count.
    calls = {
        method: n - calls_before.get(method, 0)
        for method, n in calls_after.items()
        if n > calls_before.get(method, 0) and "/points/count" not in method and "telemetry" not in method
    }
    return {
        "stdout": output,
        "launch_to_counted_s": counted_at - started,
        "counted_vps": count / (counted_at - started),
        "qdrant_cpu_s": qdrant_cpu,
        # wait4 counts the client and the child processes it reaped, exactly; the samples also count
        # processes it did not reap (upload_collection's workers are the forkserver's children).
        "client_cpu_s": max(usage.ru_utime + usage.ru_stime, tree.cpu_seconds()),
        "client_peak_rss_mb": max(tree.peak_rss_bytes / 2**20, usage.ru_maxrss / 1024 if tree.processes == 1 else 0),
        "calls": calls,
    }


class ProcessTree:
    """Every process of a client's session (it is started in a new one), sampled from /proc."""

    def __init__(self, session: int):
        self.session = session
        self.cpu_ticks: dict[int, int] = {}
        self.peak_rss_bytes = 0
        self.page = os.sysconf("SC_PAGE_SIZE")

    @property
    def processes(self) -> int:
        return len(self.cpu_ticks)

    def sample(self) -> None:
        rss = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields[3] is the session id; utime, stime at 11, 12; rss (pages) at 21.
            if int(fields[3]) != self.session:
                continue
            self.cpu_ticks[int(entry)] = int(fields[11]) + int(fields[12])
            rss += int(fields[21]) * self.page
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss)

    def cpu_seconds(self) -> float:
        """Each process's own CPU at its last sample, summed (a process's last few ms may be missed)."""
        return sum(self.cpu_ticks.values()) / CLOCK_TICKS


def reap(pid: int, options: int) -> tuple[int, "os.struct_rusage"] | None:
    """The exit code and rusage of a child that ended, or None while it runs (with WNOHANG)."""
    waited, status, usage = os.wait4(pid, options)
    return None if waited == 0 else (os.waitstatus_to_exitcode(status), usage)


def run_taboot(qdrant: Qdrant, collection: str, data: Path, args: argparse.Namespace) -> dict:
    command = [
        "node",
        str(ROOT / "bin" / "taboot.js"),
        "ingest",
        str(data / "vectors.jsonl"),
        "--json",
        "--progress",
        "none",
        "--batch-size",
        str(args.batch),
        "--parallel",
        str(args.parallel),
    ]
    if args.read_workers is not None:
        command += ["--read-workers", str(args.read_workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TABOOT_")}
    env.update(
        TABOOT_QDRANT_URL=f"http://{qdrant.host}:{qdrant.grpc_port}", TABOOT_COLLECTION=collection, NO_COLOR="1"
    )
    result = measure(qdrant, collection, args.count, command, env, data)
    result["tool_vps"] = json.loads(result.pop("stdout"))["mean_vps"]
    return result


def run_python(qdrant: Qdrant, collection: str, data: Path, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        str(HERE / "python_upload.py"),
        "--host",
        qdrant.host,
        "--http-port",
        str(qdrant.http_port),
        "--grpc-port",
        str(qdrant.grpc_port),
        "--collection",
        collection,
        "--data",
        str(data),
        "--batch",
        str(args.batch),
        "--parallel",
        str(args.parallel),
    ]
    if args.python_transport == "grpc":
        command.append("--prefer-grpc")
    result = measure(qdrant, collection, args.count, command, dict(os.environ), data)
    result["tool_vps"] = json.loads(result.pop("stdout").strip().splitlines()[-1])["vps"]
    return result


ROWS = [
    ("vec/s, the tool's own figure", "tool_vps", "{:,.0f}"),
    ("vec/s, launch until Qdrant counts all", "counted_vps", "{:,.0f}"),
    ("seconds, launch until counted", "launch_to_counted_s", "{:.2f}"),
    ("Qdrant CPU seconds until counted", "qdrant_cpu_s", "{:.1f}"),
    ("client CPU seconds", "client_cpu_s", "{:.1f}"),
    ("client peak RSS, MB", "client_peak_rss_mb", "{:.0f}"),
]


def table(runs: list[dict], count: int) -> str:
    taboot = [run for run in runs if run["client"] == "taboot"]
    python = [run for run in runs if run["client"] == "python"]
    lines = ["| | " + " | ".join(f"{run['client']} #{run['round']}" for run in runs) + " | median taboot | median Python | taboot / Python |"]
    lines.append("|" + " --- |" * (len(runs) + 4))
    for label, key, fmt in ROWS:
        if any(run[key] is None for run in runs):
            continue
        cells = [fmt.format(run[key]) for run in runs]
        t = statistics.median(run[key] for run in taboot)
        p = statistics.median(run[key] for run in python)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {fmt.format(t)} | {fmt.format(p)} | {t / p:.2f} |")
    methods = sorted({m for run in runs for m in run["calls"]})
    for method in methods:
        cells = [str(run["calls"].get(method, 0)) for run in runs]
        t = statistics.median(run["calls"].get(method, 0) for run in taboot)
        p = statistics.median(run["calls"].get(method, 0) for run in python)
        lines.append(f"| calls {method} | " + " | ".join(cells) + f" | {t:g} | {p:g} | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qdrant-binary", default="/work/shared/qdrant/qdrant-1.19.0-linux-x86_64.xz")
    parser.add_argument("--qdrant-url", help="REST URL of a running Qdrant instead of starting one")
    parser.add_argument("--qdrant-grpc-port", type=int, default=6334)
    parser.add_argument("--qdrant-pid", type=int, help="its pid, for its CPU seconds")
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=2, help="taboot, Python pairs")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--read-workers", type=int, help="taboot --read-workers (default: its own)")
    parser.add_argument(
        "--python-transport",
        choices=["grpc", "rest"],
        default="grpc",
        help="QdrantClient's transport: grpc (prefer_grpc=True, as taboot) or rest (the client's default)",
    )
    parser.add_argument("--generate", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and the collections")
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate), args.count, args.dim, args.seed)
        return

    workdir = Path(tempfile.mkdtemp(prefix="taboot-compare-"))
    data = workdir / "compare"
    data.mkdir()
    qdrant = Qdrant(args, workdir)
    try:
        # In a process of its own: a client forked from this one after it held every vector would
        # report this process's peak RSS as its own.
        subprocess.run(
            [sys.executable, __file__, "--generate", str(data), "--count", str(args.count), "--dim", str(args.dim),
             "--seed", str(args.seed)],
            check=True,
        )
        indexes = json.loads((ROOT / "taboot.config.json").read_text())["collection"]["payloadIndexes"]
        runs = []
        for round_ in range(1, args.rounds + 1):
            for client, run in (("taboot", run_taboot), ("python", run_python)):
                collection = f"compare_{client}_{round_}_{os.getpid()}"
                qdrant.create(collection, args.dim, indexes)
                result = run(qdrant, collection, data, args)
                result.update(client=client, round=round_)
                runs.append(result)
                print(
                    f"{client} #{round_}: {result['counted_vps']:,.0f} vec/s launch to counted, "
                    f"{result['tool_vps']:,.0f} its own, client {result['client_cpu_s']:.1f} CPU s",
                    file=sys.stderr,
                )
                if not args.keep:
                    qdrant.drop(collection)
        print(
            f"{args.count:,} points x {args.dim} dims, batch {args.batch}, {args.parallel} in flight, wait=false; "
            f"Python over {args.python_transport}"
        )
        print(table(runs, args.count))
        print(
            json.dumps(
                {"count": args.count, "dim": args.dim, "python_transport": args.python_transport, "runs": runs}
            )
        )
    finally:
        qdrant.close()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
