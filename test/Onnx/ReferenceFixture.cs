using Xunit;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>
/// One public reference fixture (test/Fixtures/cct-reference), read without TorchSharp: weights from the
/// raw float32 bytes at the offsets NAME.weights.json gives into the .pt file, arrays from the .bin files.
/// </summary>
internal sealed class ReferenceFixture
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "cct-reference");

    public static readonly string[] Names =
    {
        "cct_2_3x2_32", "cct_7_3x1_32", "cct_2_3x2_28_c1", "cct_2_3x2_32_softmaxT_seqpool", "cct_2_3x2_32_softmaxT_mhsa",
    };

    public required string Name { get; init; }
    public required CctArchitecture Architecture { get; init; }
    public required ValueMixing Mixing { get; init; }
    public required Dictionary<string, NamedTensorData> StateDict { get; init; }
    /// <summary>State-dict keys and shapes as the manifest lists them (the original's own list).</summary>
    public required List<(string Key, long[] Shape)> ManifestKeys { get; init; }
    public required float[] Input { get; init; }
    public required float[] Logits { get; init; }
    public int BatchSize => 4;

    public int ImageSize => Input.Length / BatchSize;

    public float[] InputRow(int row) => Input.AsSpan(row * ImageSize, ImageSize).ToArray();

    public float[] LogitsRow(int row) => Logits.AsSpan(row * Architecture.NumClasses, Architecture.NumClasses).ToArray();

    public static ReferenceFixture Load(string name)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, name + ".json")));
        var root = manifest.RootElement;
        string weightsIndex = root.GetProperty("weights").GetProperty("index").GetString()!;
        var keys = root.GetProperty("state_dict_keys").EnumerateArray()
            .Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(d => d.GetInt64()).ToArray())).ToList();
        return new ReferenceFixture
        {
            Name = name,
            Architecture = ArchitectureOf(name),
            Mixing = MixingOf(root),
            StateDict = LoadWeights(weightsIndex),
            ManifestKeys = keys,
            Input = ReadFloats(name + ".input.bin"),
            Logits = ReadFloats(name + ".logits.bin"),
        };
    }

    private static CctArchitecture ArchitectureOf(string name) => name switch
    {
        "cct_7_3x1_32" => CctPresets.Get("cct_7_3x1_32"),
        "cct_2_3x2_28_c1" => CctPresets.Get("cct_2_3x2_32") with { ImageHeight = 28, ImageWidth = 28, InputChannels = 1 },
        _ => CctPresets.Get("cct_2_3x2_32"),
    };

    /// <summary>The manifest's variant: softmax^T(V) with alpha (beta 0) in the named place, or none.</summary>
    private static ValueMixing MixingOf(JsonElement root)
    {
        if (!root.TryGetProperty("variant", out var variant) || variant.ValueKind == JsonValueKind.Null)
            return new ValueMixing();
        double alpha = variant.GetProperty("alpha").GetDouble();
        var scope = variant.GetProperty("where").GetString() switch
        {
            "seqpool" => AttentionScope.Pooling,
            "mhsa" => AttentionScope.SelfAttention,
            var other => throw new InvalidDataException($"Unknown fixture variant place '{other}'."),
        };
        return new ValueMixing(alpha, 0, scope);
    }

    private static Dictionary<string, NamedTensorData> LoadWeights(string indexFile)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, indexFile)));
        var result = new Dictionary<string, NamedTensorData>(StringComparer.Ordinal);
        var files = new Dictionary<string, byte[]>();
        foreach (var t in index.RootElement.GetProperty("tensors").EnumerateArray())
        {
            Assert.Equal("float32", t.GetProperty("dtype").GetString());
            string file = t.GetProperty("file").GetString()!;
            if (!files.TryGetValue(file, out var bytes))
                files[file] = bytes = File.ReadAllBytes(Path.Combine(Folder, file));
            long offset = t.GetProperty("offset").GetInt64();
            int nbytes = t.GetProperty("nbytes").GetInt32();
            float[] data = MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)offset, nbytes)).ToArray();
            long[] shape = t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            result.Add(t.GetProperty("name").GetString()!, new NamedTensorData(data, shape));
        }
        return result;
    }

    public static float[] ReadFloats(string file) =>
        MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Folder, file))).ToArray();
}
