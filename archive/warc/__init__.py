"""WARC I/O: the archive is the source of truth, so this package is small and strict.

``writer`` and ``reader`` for records, ``files`` for names and ``.open`` files, ``verify`` for
reading a file back, ``body`` for the HTTP body every reader of a record decodes, ``index``
for the CDXJ index replay tools read.
"""
