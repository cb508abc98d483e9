using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.CompactTransformer.Modeling;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Support;

/// <summary>
/// One fixture of the original PyTorch implementation (test/Fixtures/cct-reference): its manifest,
/// arrays and weights. Weights are read as raw float32 at the byte offsets the weights index gives,
/// so these tests do not depend on our own checkpoint loader. tools/GpuCheck compiles this same file to run the
/// fixtures on CUDA, so it throws rather than asserts.
/// </summary>
internal sealed class ReferenceFixture
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "cct-reference");

    public static readonly string[] All =
    {
        "cct_2_3x2_32", "cct_7_3x1_32", "cct_2_3x2_28_c1", "cct_2_3x2_32_softmaxT_seqpool", "cct_2_3x2_32_softmaxT_mhsa",
    };

    private readonly string folder;

    private ReferenceFixture(string name, string folder)
    {
        Name = name;
        this.folder = folder;
        Manifest = JsonDocument.Parse(File.ReadAllText(FilePath(name + ".json"))).RootElement;
    }

    public string Name { get; }

    public JsonElement Manifest { get; }

    /// <summary>The fixture <paramref name="name"/> in <paramref name="folder"/> (the copy next to the tests when null).</summary>
    public static ReferenceFixture Load(string name, string? folder = null) => new(name, folder ?? Folder);

    /// <summary>The fixtures in <paramref name="folder"/>: every NAME.json that has a weights index, by name.</summary>
    public static IReadOnlyList<ReferenceFixture> AllIn(string folder)
    {
        if (!Directory.Exists(folder))
            throw new ArgumentException($"Fixture folder '{folder}' does not exist.", nameof(folder));
        return Directory.GetFiles(folder, "*.json")
            .Where(f => !f.EndsWith(".weights.json", StringComparison.Ordinal))
            .Select(f => new ReferenceFixture(Path.GetFileNameWithoutExtension(f), folder))
            .Where(f => f.Manifest.TryGetProperty("weights", out _))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToArray();
    }

    /// <summary>A file of the fixtures next to the tests.</summary>
    public static string PathOf(string file) => Path.Combine(Folder, file);

    /// <summary>A file in this fixture's folder.</summary>
    public string FilePath(string file) => Path.Combine(folder, file);

    /// <summary>The architecture the fixture was built with, from its manifest's build arguments.</summary>
    public CctArchitecture Architecture
    {
        get
        {
            var build = Manifest.GetProperty("build");
            var arch = CctPresets.Get(build.GetProperty("factory").GetString()!);
            var kwargs = build.GetProperty("kwargs");
            if (kwargs.TryGetProperty("num_classes", out var classes))
                arch = arch with { NumClasses = classes.GetInt32() };
            if (kwargs.TryGetProperty("img_size", out var size))
                arch = arch with { ImageHeight = size.GetInt32(), ImageWidth = size.GetInt32() };
            if (kwargs.TryGetProperty("n_input_channels", out var channels))
                arch = arch with { InputChannels = channels.GetInt32() };
            return arch;
        }
    }

    /// <summary>The fixture's attention variant: pure softmax over tokens (alpha 1, beta 0) where its manifest says.</summary>
    public ValueMixing Mixing
    {
        get
        {
            var variant = Manifest.GetProperty("variant");
            if (variant.ValueKind == JsonValueKind.Null)
                return new ValueMixing();
            double alpha = variant.GetProperty("alpha").GetDouble();
            var scope = variant.GetProperty("where").GetString() switch
            {
                "seqpool" => AttentionScope.Pooling,
                "mhsa" => AttentionScope.SelfAttention,
                var other => throw new InvalidDataException($"Unknown variant location '{other}' in {Name}.json"),
            };
            return new ValueMixing(alpha, 1 - alpha, scope);
        }
    }

    public string WeightsFile => Manifest.GetProperty("weights").GetProperty("index").GetString()!;

    /// <summary>The reference weights by state_dict key, in state_dict order.</summary>
    public IReadOnlyList<(string Name, long[] Shape, float[] Data)> Weights()
    {
        var index = JsonDocument.Parse(File.ReadAllText(FilePath(WeightsFile))).RootElement;
        var list = new List<(string, long[], float[])>();
        foreach (var t in index.GetProperty("tensors").EnumerateArray())
        {
            var file = FilePath(t.GetProperty("file").GetString()!);
            list.Add((t.GetProperty("name").GetString()!, Shape(t), ReadFloats(file, t.GetProperty("offset").GetInt64(), t.GetProperty("nbytes").GetInt32())));
        }
        return list;
    }

    /// <summary>Builds the fixture's network and copies the reference weights into it (every key must match).</summary>
    public CctNetwork BuildNetwork()
    {
        var network = new CctNetwork(Architecture, Mixing);
        var state = network.state_dict();
        var weights = Weights();
        var expected = weights.Select(w => w.Name).Order(StringComparer.Ordinal).ToArray();
        var actual = state.Keys.Order(StringComparer.Ordinal).ToArray();
        if (!expected.SequenceEqual(actual))
            throw new InvalidDataException(
                $"{Name}: the reference has [{string.Join(", ", expected.Except(actual))}] that the network lacks and the network has [{string.Join(", ", actual.Except(expected))}] that the reference lacks.");
        using (no_grad())
        {
            foreach (var (name, shape, data) in weights)
            {
                if (!shape.SequenceEqual(state[name].shape))
                    throw new InvalidDataException($"{Name}: '{name}' is [{string.Join(", ", shape)}] in the reference, [{string.Join(", ", state[name].shape)}] in the network.");
                using var source = tensor(data, shape);
                state[name].copy_(source);
            }
        }
        network.eval();
        return network;
    }

    public Tensor Array(string key)
    {
        var spec = Manifest.GetProperty("arrays").GetProperty(key);
        var file = FilePath(spec.GetProperty("file").GetString()!);
        var shape = Shape(spec);
        return spec.GetProperty("dtype").GetString() switch
        {
            "float32" => tensor(ReadFloats(file, 0, spec.GetProperty("nbytes").GetInt32()), shape),
            "int64" => tensor(MemoryMarshal.Cast<byte, long>(File.ReadAllBytes(file)).ToArray(), shape),
            var other => throw new InvalidDataException($"Unexpected dtype {other} in {Name}.json"),
        };
    }

    public bool HasArray(string key) => Manifest.GetProperty("arrays").TryGetProperty(key, out _);

    public static long[] Shape(JsonElement spec) =>
        spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    public static float[] ReadFloats(string file, long offset, int nbytes)
    {
        using var stream = File.OpenRead(file);
        stream.Seek(offset, SeekOrigin.Begin);
        var bytes = new byte[nbytes];
        stream.ReadExactly(bytes);
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
