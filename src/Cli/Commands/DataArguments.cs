namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>Where the training images come from, shared by <c>cct train</c>, <c>compare</c> and <c>search</c>.</summary>
internal sealed record DataArguments
{
    /// <summary>A folder-per-class image tree: with <c>train/</c> (and optionally <c>test/</c>) subfolders, or one tree.</summary>
    public string? Data { get; init; }

    /// <summary>A folder of MNIST-style IDX files: <c>train-*</c> and optionally <c>t10k-*</c>, gzip or not.</summary>
    public string? Idx { get; init; }

    /// <summary>Fraction of the training images held out for validation (seeded); null uses the test split when there is one.</summary>
    public double? ValidationFraction { get; init; }

    /// <summary>Square image size; images of another size are stretched to it (image trees only). Null keeps the data's.</summary>
    public int? ImageSize { get; init; }

    /// <summary>1 (grayscale) or 3 (RGB); null reads image trees as RGB and IDX files as grayscale.</summary>
    public int? Channels { get; init; }

    /// <summary>Number of classes; null takes the data's. For IDX files it also covers labels absent from the files.</summary>
    public int? Classes { get; init; }
}
