"""Files attached to cases (附件): stored behind a storage interface (local disk by default),
checked for size and type, served only to those who may see the case."""
