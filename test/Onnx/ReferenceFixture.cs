using Xunit;
using System.Runtime.InteropServices;
using Microsoft.ML.CompactTransformer.Modeling;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>
/// One public reference fixture (test/Fixtures/cct-reference) as plain arrays (no TorchSharp tensors): weights from the
/// raw float32 bytes at the offsets NAME.weights.json gives into the .pt file, arrays from the .bin files.
/// </summary>
internal sealed class ReferenceFixture
{
    public static string Folder => Support.ReferenceFixture.Folder;

    public static IReadOnlyList<string> Names => Support.ReferenceFixture.All;

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

    /// <summary>Reads the fixture through the shared reader (Support.ReferenceFixture), as plain arrays.</summary>
    public static ReferenceFixture Load(string name)
    {
        var shared = Support.ReferenceFixture.Load(name);
        var keys = shared.Manifest.GetProperty("state_dict_keys").EnumerateArray()
            .Select(e => (e[0].GetString()!, e[1].EnumerateArray().Select(d => d.GetInt64()).ToArray())).ToList();
        return new ReferenceFixture
        {
            Name = name,
            Architecture = shared.Architecture,
            Mixing = shared.Mixing,
            StateDict = shared.Weights().ToDictionary(w => w.Name, w => new NamedTensorData(w.Data, w.Shape), StringComparer.Ordinal),
            ManifestKeys = keys,
            Input = ReadFloats(name + ".input.bin"),
            Logits = ReadFloats(name + ".logits.bin"),
        };
    }

    public static float[] ReadFloats(string file) =>
        MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(Folder, file))).ToArray();
}
