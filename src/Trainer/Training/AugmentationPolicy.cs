namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// A learned or random policy of photometric and geometric image operations, applied to each training image
/// with its own random draws. Works on 8-bit images (pixel values 0..255), as the original's PIL-based policies do.
/// </summary>
public enum AugmentationPolicy
{
    /// <summary>No policy.</summary>
    None,

    /// <summary>
    /// AutoAugment's CIFAR-10 policy (Cubuk et al. 2019): one of 25 sub-policies per image, each two operations with
    /// their own probability and magnitude (the original's legacy recipe, <c>CIFAR10Policy</c>).
    /// </summary>
    AutoAugmentCifar10,

    /// <summary>
    /// RandAugment as timm implements it (Cubuk et al. 2020): <c>N</c> operations drawn uniformly per image, each
    /// applied with probability 1/2 at a magnitude drawn from a normal around <c>M</c> (the original's timm recipe,
    /// <c>rand-m9-mstd0.5</c>).
    /// </summary>
    RandAugment,
}
