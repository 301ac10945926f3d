/** Where an input came from, as every message prints it: `docs/a.jsonl:12`, or `docs/b.md` without a line. */
export function formatLocation(place: { file: string; line?: number | undefined }): string {
  return place.line === undefined ? place.file : `${place.file}:${place.line}`;
}
