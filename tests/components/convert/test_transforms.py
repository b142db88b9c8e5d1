from components.convert.transforms import ErrorsFn


def err(reason: str, file: str) -> dict:
    return {"file": file, "stage": "encode", "reason": reason, "detail": ""}


def test_errors_fn_keeps_exact_counts_and_the_first_files_per_reason_across_merges():
    fn = ErrorsFn(per_reason=3)
    parts = []
    for worker in range(4):
        acc = fn.create_accumulator()
        for i in range(worker, 40, 4):
            acc = fn.add_input(acc, err("bad_image", f"img_{i:03d}.png"))
        acc = fn.add_input(acc, err("bad_json", f"captures_{worker}.json"))
        parts.append(acc)
    out = fn.extract_output(fn.merge_accumulators(parts))
    assert out["counts"] == {"bad_image": 40, "bad_json": 4}
    assert [e["file"] for e in out["listed"]] == [
        "img_000.png", "img_001.png", "img_002.png", "captures_0.json", "captures_1.json", "captures_2.json"]
