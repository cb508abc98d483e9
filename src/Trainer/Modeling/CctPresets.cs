namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Every named configuration of the original implementation, as a table. A name is
/// <c>{family}_{size}_{tokenizer}_{image}[_sine][_suffix]</c>; the rows below spell each one out.
/// Note: the original's <c>cct_*_sine</c> factories silently build a learnable embedding; here
/// <c>_sine</c> means a true sine embedding. The state_dict keys and shapes are the same either way.
/// </summary>
public static class CctPresets
{
    private sealed record Size(int Layers, int Heads, double MlpRatio, int Dim);

    // Encoder sizes of the original (REFERENCE.md section 2).
    private static readonly IReadOnlyDictionary<string, Size> Sizes = new Dictionary<string, Size>
    {
        ["2"] = new(2, 2, 1, 128),
        ["4"] = new(4, 2, 1, 128),
        ["6"] = new(6, 4, 2, 256),
        ["7"] = new(7, 4, 2, 256),
        ["8"] = new(8, 4, 2, 256),
        ["14"] = new(14, 6, 3, 384),
        ["16"] = new(16, 6, 3, 384),
    };

    private sealed record Row(string Name, string Family, string Size, int Kernel, int ConvLayers, int Image,
        PositionalEmbeddingKind Embedding, int Classes);

    private const PositionalEmbeddingKind L = PositionalEmbeddingKind.Learnable;
    private const PositionalEmbeddingKind S = PositionalEmbeddingKind.Sine;

    // name, family, size, kernel or patch, conv layers, image, embedding, classes
    private static readonly Row[] Rows =
    {
        new("cct_2_3x2_32", "cct", "2", 3, 2, 32, L, 10),
        new("cct_2_3x2_32_sine", "cct", "2", 3, 2, 32, S, 10),
        new("cct_4_3x2_32", "cct", "4", 3, 2, 32, L, 10),
        new("cct_4_3x2_32_sine", "cct", "4", 3, 2, 32, S, 10),
        new("cct_6_3x1_32", "cct", "6", 3, 1, 32, L, 10),
        new("cct_6_3x1_32_sine", "cct", "6", 3, 1, 32, S, 10),
        new("cct_6_3x2_32", "cct", "6", 3, 2, 32, L, 10),
        new("cct_6_3x2_32_sine", "cct", "6", 3, 2, 32, S, 10),
        new("cct_7_3x1_32", "cct", "7", 3, 1, 32, L, 10),
        new("cct_7_3x1_32_sine", "cct", "7", 3, 1, 32, S, 10),
        new("cct_7_3x1_32_c100", "cct", "7", 3, 1, 32, L, 100),
        new("cct_7_3x1_32_sine_c100", "cct", "7", 3, 1, 32, S, 100),
        new("cct_7_3x2_32", "cct", "7", 3, 2, 32, L, 10),
        new("cct_7_3x2_32_sine", "cct", "7", 3, 2, 32, S, 10),
        new("cct_7_7x2_224_sine", "cct", "7", 7, 2, 224, S, 102),
        new("cct_14_7x2_224", "cct", "14", 7, 2, 224, L, 1000),
        new("cct_14_7x2_384", "cct", "14", 7, 2, 384, L, 1000),
        new("cct_14_7x2_384_fl", "cct", "14", 7, 2, 384, L, 102),
        new("cvt_2_4_32", "cvt", "2", 4, 1, 32, L, 10),
        new("cvt_2_4_32_sine", "cvt", "2", 4, 1, 32, S, 10),
        new("cvt_4_4_32", "cvt", "4", 4, 1, 32, L, 10),
        new("cvt_4_4_32_sine", "cvt", "4", 4, 1, 32, S, 10),
        new("cvt_6_4_32", "cvt", "6", 4, 1, 32, L, 10),
        new("cvt_6_4_32_sine", "cvt", "6", 4, 1, 32, S, 10),
        new("cvt_7_4_32", "cvt", "7", 4, 1, 32, L, 10),
        new("cvt_7_4_32_sine", "cvt", "7", 4, 1, 32, S, 10),
        new("vit_2_4_32", "vit", "2", 4, 1, 32, L, 10),
        new("vit_2_4_32_sine", "vit", "2", 4, 1, 32, S, 10),
        new("vit_4_4_32", "vit", "4", 4, 1, 32, L, 10),
        new("vit_4_4_32_sine", "vit", "4", 4, 1, 32, S, 10),
        new("vit_6_4_32", "vit", "6", 4, 1, 32, L, 10),
        new("vit_6_4_32_sine", "vit", "6", 4, 1, 32, S, 10),
        new("vit_7_4_32", "vit", "7", 4, 1, 32, L, 10),
        new("vit_7_4_32_sine", "vit", "7", 4, 1, 32, S, 10),
    };

    private sealed record Family(TokenizerKind Tokenizer, PoolingKind Pooling);

    private static readonly IReadOnlyDictionary<string, Family> Families = new Dictionary<string, Family>
    {
        ["cct"] = new(TokenizerKind.Convolutional, PoolingKind.Sequence),
        ["cvt"] = new(TokenizerKind.Patch, PoolingKind.Sequence),
        ["vit"] = new(TokenizerKind.Patch, PoolingKind.ClassToken),
    };

    private static readonly IReadOnlyDictionary<string, CctArchitecture> ByName =
        Rows.ToDictionary(r => r.Name, Build, StringComparer.OrdinalIgnoreCase);

    private static CctArchitecture Build(Row r)
    {
        var size = Sizes[r.Size];
        var family = Families[r.Family];
        return new CctArchitecture
        {
            Name = r.Name,
            NumLayers = size.Layers,
            NumHeads = size.Heads,
            MlpRatio = size.MlpRatio,
            EmbeddingDim = size.Dim,
            Tokenizer = family.Tokenizer,
            Pooling = family.Pooling,
            KernelSize = r.Kernel,
            NumConvLayers = r.ConvLayers,
            ImageHeight = r.Image,
            ImageWidth = r.Image,
            PositionalEmbedding = r.Embedding,
            NumClasses = r.Classes,
        };
    }

    /// <summary>All preset names, in table order.</summary>
    public static IReadOnlyList<string> Names { get; } = Rows.Select(r => r.Name).ToArray();

    /// <summary>Returns the named preset (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is not a preset; the message lists the known names.</exception>
    public static CctArchitecture Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (ByName.TryGetValue(name, out var arch))
            return arch;
        throw new ArgumentException(
            $"Unknown architecture '{name}'. Known presets: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>True when <paramref name="name"/> is a preset.</summary>
    public static bool Contains(string name) => ByName.ContainsKey(name);
}
