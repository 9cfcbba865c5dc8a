// Dimension legend used in every shape comment and signature of the package (llm.c style):
//
//   B      batch size                     T      sequence length (time)
//   D      hidden size (model width)      I      MLP intermediate size
//   H      query heads                    Hkv    key/value heads (GQA); G = H / Hkv
//   dh     attention head dim (teacher)   dk, dv per-head key / value dims (GSA)
//   M      GSA slots per head             C      GSA chunk length (64)
//   L      layers                         Vocab  vocabulary size
//
// Tensors are row-major; a shape comment `x: [B, T, D]` means x[b][t][d] at (b*T + t)*D + d.
// Linear weights keep PyTorch's [out, in] orientation: y = x · Wᵀ.
