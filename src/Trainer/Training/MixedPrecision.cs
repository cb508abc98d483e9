namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>Number format of the forward pass during training and evaluation; the weights and the optimizer stay float32.</summary>
public enum MixedPrecision
{
    /// <summary>Everything in float32 (the default, and the original's).</summary>
    None,

    /// <summary>
    /// libtorch's automatic mixed precision with bfloat16 (<c>torch.autocast(dtype=torch.bfloat16)</c>): matrix
    /// products, convolutions and attention run in bfloat16 while softmax, normalisation and the loss stay float32, and
    /// the float32 master weights are what AdamW updates. Made for CUDA (about twice the matrix throughput of float32
    /// on recent GPUs); it also runs on the CPU, but was 10-30 times slower than float32 there. Results differ from
    /// float32 in the third significant digit of the activations.
    /// </summary>
    BFloat16,
}
