using Microsoft.ML.CompactTransformer.Modeling;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>Copies a live TorchSharp network's weights out as plain arrays under the original's keys.</summary>
public static class CctNetworkSnapshot
{
    /// <summary>The network's state_dict as float32 arrays (a copy; later training does not change it).</summary>
    public static Dictionary<string, NamedTensorData> StateDict(CctNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var result = new Dictionary<string, NamedTensorData>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        foreach (var (key, t) in network.state_dict())
        {
            var cpu = t.detach().to_type(ScalarType.Float32).cpu().contiguous();
            result[key] = new NamedTensorData(cpu.data<float>().ToArray(), cpu.shape);
        }
        return result;
    }

    /// <summary>Exports <paramref name="network"/> with the alpha/beta/scope in force right now.</summary>
    public static byte[] ExportOnnx(CctNetwork network, OnnxExportSettings settings) =>
        CctOnnxExporter.Export(network.Architecture, StateDict(network), network.Mixing, settings);
}
