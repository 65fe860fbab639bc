"""A whole lab, end to end, on the real Fashion-MNIST (60,000 / 10,000) in the quick profile.

`make test` executes every notebook once on MNIST (tests/test_grading_lab.py); this test executes lab 01 through the
runner (as `make run DATASET=fashion_mnist PROFILE=quick` does) and checks what it recorded.
"""
from labutils import runner


def test_lab01_quick_on_fashion_mnist(fashion_dir, build_dir, monkeypatch):
    monkeypatch.setenv("LABS_DATASET", "fashion_mnist")
    monkeypatch.setenv("LABUTILS_DATA_DIR", str(fashion_dir))
    (record,) = runner.run(["01"], "quick")
    assert record["status"] == "passed", record.get("error")
    assert record["dataset"] == "fashion_mnist" and record["split"] == "standard"
    assert record["data"].startswith("Fashion-MNIST 60,000 / 10,000")
    assert record["bars"] and all(b["passed"] for b in record["bars"].values())
    executed = (build_dir / "notebooks" / "01_dense_autoencoder.ipynb").read_text()
    assert "Fashion-MNIST" in executed
