"""One small file per method; each is registered by one line in ``tandem_ref.registry``."""
