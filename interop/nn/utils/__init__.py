"""``interop.nn.utils``: gradient clipping, parameter vectors, parametrizations and the
packed-sequence helpers of recurrent layers."""
