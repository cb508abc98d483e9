using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>
/// The original's state-dict keys and shapes for an architecture, written from REFERENCE.md and checked
/// against the fixture manifests (so random weights for the presets have the shapes a checkpoint would).
/// </summary>
internal static class ExpectedStateDict
{
    public static List<(string Key, long[] Shape)> For(CctArchitecture a)
    {
        long d = a.EmbeddingDim;
        var keys = new List<(string, long[])>();
        if (a.Tokenizer == TokenizerKind.Patch)
        {
            keys.Add(("tokenizer.conv_layers.0.0.weight", new long[] { d, a.InputChannels, a.KernelSize, a.KernelSize }));
            keys.Add(("tokenizer.conv_layers.0.0.bias", new[] { d }));
        }
        else
        {
            for (int i = 0; i < a.NumConvLayers; i++)
            {
                long inC = i == 0 ? a.InputChannels : a.ConvHiddenChannels;
                long outC = i == a.NumConvLayers - 1 ? d : a.ConvHiddenChannels;
                keys.Add(($"tokenizer.conv_layers.{i}.0.weight", new[] { outC, inC, a.KernelSize, a.KernelSize }));
            }
        }
        if (a.Pooling == PoolingKind.ClassToken)
            keys.Add(("classifier.class_emb", new[] { 1, 1, d }));
        if (a.PositionalEmbedding != PositionalEmbeddingKind.None)
            keys.Add(("classifier.positional_emb", new[] { 1, a.SequenceLength, d }));
        if (a.Pooling == PoolingKind.Sequence)
        {
            keys.Add(("classifier.attention_pool.weight", new[] { 1, d }));
            keys.Add(("classifier.attention_pool.bias", new long[] { 1 }));
        }
        long hidden = a.MlpHiddenDim;
        for (int i = 0; i < a.NumLayers; i++)
        {
            string b = $"classifier.blocks.{i}.";
            keys.Add((b + "pre_norm.weight", new[] { d }));
            keys.Add((b + "pre_norm.bias", new[] { d }));
            keys.Add((b + "self_attn.qkv.weight", new[] { 3 * d, d }));
            keys.Add((b + "self_attn.proj.weight", new[] { d, d }));
            keys.Add((b + "self_attn.proj.bias", new[] { d }));
            keys.Add((b + "linear1.weight", new[] { hidden, d }));
            keys.Add((b + "linear1.bias", new[] { hidden }));
            keys.Add((b + "norm1.weight", new[] { d }));
            keys.Add((b + "norm1.bias", new[] { d }));
            keys.Add((b + "linear2.weight", new[] { d, hidden }));
            keys.Add((b + "linear2.bias", new[] { d }));
        }
        keys.Add(("classifier.norm.weight", new[] { d }));
        keys.Add(("classifier.norm.bias", new[] { d }));
        keys.Add(("classifier.fc.weight", new long[] { a.NumClasses, d }));
        keys.Add(("classifier.fc.bias", new long[] { a.NumClasses }));
        return keys;
    }

    /// <summary>Random weights of the right shapes: small normal values, LayerNorm scales near 1.</summary>
    public static Dictionary<string, NamedTensorData> Random(CctArchitecture a, int seed)
    {
        var random = new Random(seed);
        var result = new Dictionary<string, NamedTensorData>(StringComparer.Ordinal);
        foreach (var (key, shape) in For(a))
        {
            long count = shape.Aggregate(1L, (x, y) => x * y);
            bool norm = key.EndsWith("norm.weight", StringComparison.Ordinal) || key.EndsWith("norm1.weight", StringComparison.Ordinal);
            float std = key.StartsWith("tokenizer", StringComparison.Ordinal) ? 0.1f : key.Contains("positional") ? 0.2f : 0.02f;
            var data = new float[count];
            for (long i = 0; i < count; i++)
                data[i] = (norm ? 1f : 0f) + std * (float)(random.NextDouble() * 2 - 1);
            result[key] = new NamedTensorData(data, shape);
        }
        return result;
    }
}
