"""The browser's pages of the reporting app: the dashboards (``tableau``) and the public statistics (``public``)."""
