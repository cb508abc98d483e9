using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.CompactTransformer.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace GpuCheck;

/// <summary>
/// One fixture of the original implementation (test/Fixtures/cct-reference): its manifest, arrays and weights, read as
/// raw float32 at the offsets the weights index gives. The test project's reader, without its assertions.
/// </summary>
internal sealed class ReferenceFixture
{
    private readonly string folder;

    private ReferenceFixture(string folder, string name)
    {
        this.folder = folder;
        Name = name;
        Manifest = JsonDocument.Parse(File.ReadAllText(PathOf(name + ".json"))).RootElement;
    }

    public string Name { get; }

    public JsonElement Manifest { get; }

    /// <summary>The fixtures in <paramref name="folder"/>: every NAME.json with a weights index.</summary>
    public static IReadOnlyList<ReferenceFixture> All(string folder)
    {
        if (!Directory.Exists(folder))
            throw new ArgumentException($"Fixture folder '{folder}' does not exist.");
        return Directory.GetFiles(folder, "*.json")
            .Where(f => !f.EndsWith(".weights.json", StringComparison.Ordinal))
            .Select(f => new ReferenceFixture(folder, Path.GetFileNameWithoutExtension(f)))
            .Where(f => f.Manifest.TryGetProperty("weights", out _))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToArray();
    }

    public string PathOf(string file) => Path.Combine(folder, file);

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

    public ValueMixing Mixing
    {
        get
        {
            var variant = Manifest.GetProperty("variant");
            if (variant.ValueKind == JsonValueKind.Null)
                return new ValueMixing();
            double alpha = variant.GetProperty("alpha").GetDouble();
            var scope = variant.GetProperty("where").GetString() == "seqpool" ? AttentionScope.Pooling : AttentionScope.SelfAttention;
            return new ValueMixing(alpha, 1 - alpha, scope);
        }
    }

    /// <summary>The fixture's network with the reference weights, in evaluation mode, on <paramref name="device"/>.</summary>
    public CctNetwork BuildNetwork(Device device)
    {
        var network = new CctNetwork(Architecture, Mixing);
        var state = network.state_dict();
        var index = JsonDocument.Parse(File.ReadAllText(PathOf(Manifest.GetProperty("weights").GetProperty("index").GetString()!))).RootElement;
        int loaded = 0;
        using (no_grad())
        {
            foreach (var t in index.GetProperty("tensors").EnumerateArray())
            {
                string name = t.GetProperty("name").GetString()!;
                if (!state.TryGetValue(name, out var target))
                    throw new InvalidDataException($"{Name}: the network has no '{name}'.");
                using var source = tensor(ReadFloats(PathOf(t.GetProperty("file").GetString()!), t.GetProperty("offset").GetInt64(), t.GetProperty("nbytes").GetInt32()), Shape(t));
                target.copy_(source);
                loaded++;
            }
        }
        if (loaded != state.Count)
            throw new InvalidDataException($"{Name}: {loaded} reference tensors for {state.Count} network tensors.");
        network.eval();
        return network.to(device);
    }

    public bool HasArray(string key) => Manifest.GetProperty("arrays").TryGetProperty(key, out _);

    /// <summary>An array of the manifest (input, tokens, ..., labels) on the CPU.</summary>
    public Tensor Array(string key)
    {
        var spec = Manifest.GetProperty("arrays").GetProperty(key);
        var file = PathOf(spec.GetProperty("file").GetString()!);
        return spec.GetProperty("dtype").GetString() switch
        {
            "float32" => tensor(ReadFloats(file, 0, spec.GetProperty("nbytes").GetInt32()), Shape(spec)),
            "int64" => tensor(MemoryMarshal.Cast<byte, long>(File.ReadAllBytes(file)).ToArray(), Shape(spec)),
            var other => throw new InvalidDataException($"Unexpected dtype {other} in {Name}.json"),
        };
    }

    public static long[] Shape(JsonElement spec) => spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    public static float[] ReadFloats(string file, long offset, int nbytes)
    {
        using var stream = File.OpenRead(file);
        stream.Seek(offset, SeekOrigin.Begin);
        var bytes = new byte[nbytes];
        stream.ReadExactly(bytes);
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
