"""The Python recipe: qdrant-client's upload_collection of the generated points (one run).

Run by compare.py in its own process, so that its CPU time and memory can be measured alone.
Prints one JSON line: the upload's own seconds and vec/s.
"""

import argparse
import json
import time

import numpy as np
from qdrant_client import QdrantClient


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--prefer-grpc", action="store_true")
    parser.add_argument("--collection", required=True)
    parser.add_argument("--data", required=True, help="folder with vectors.npy and points.json")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()

    vectors = np.load(f"{args.data}/vectors.npy")
    with open(f"{args.data}/points.json", encoding="utf-8") as file:
        points = json.load(file)
    client = QdrantClient(
        host=args.host,
        port=args.http_port,
        grpc_port=args.grpc_port,
        prefer_grpc=args.prefer_grpc,
        timeout=60,
    )
    started = time.perf_counter()
    client.upload_collection(
        collection_name=args.collection,
        vectors=vectors,
        payload=points["payloads"],
        ids=points["ids"],
        batch_size=args.batch,
        parallel=args.parallel,
        wait=False,
    )
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "vps": len(vectors) / seconds}))


if __name__ == "__main__":
    main()
