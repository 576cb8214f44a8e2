"""Knowledge retrieval as Dify's knowledge-retrieval node and classic apps' `dataset_configs`
run it over external knowledge bases: the settings (settings.py), the metadata condition
(metadata.py), single-mode routing by a model (router.py), the retrieval itself
(retrieve.py) and Dify's shapes of what it found (sources.py)."""
