using System.Text.Json.Serialization;
using Microsoft.ML.CompactTransformer.Data;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// How raw pixel values become network inputs: <c>(pixel * Scale - Mean[c]) / Std[c]</c> per channel c,
/// e.g. bytes 0..255 with scale 1/255 and the data set's channel statistics. It belongs to the trained
/// model: training, evaluation and the ONNX export all apply the same numbers.
/// </summary>
/// <remarks>
/// The formula is evaluated as one multiply-add, <c>pixel * <see cref="Multipliers"/>[c] + <see cref="Offsets"/>[c]</c>,
/// with both coefficients rounded to float32; an exporter that folds those two float vectors in reproduces
/// the training inputs bit for bit.
/// </remarks>
public sealed class PixelNormalization
{
    /// <summary>Creates a normalisation; one mean and std per channel, or one of each for all channels.</summary>
    /// <param name="scale">Factor applied to raw pixels first (1/255 for bytes to 0..1).</param>
    /// <param name="mean">Per-channel mean of the scaled pixels.</param>
    /// <param name="std">Per-channel standard deviation of the scaled pixels (positive).</param>
    [JsonConstructor]
    public PixelNormalization(double scale, IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The pixel scale must be positive and finite.");
        if (mean.Count < 1 || mean.Count != std.Count)
            throw new ArgumentException($"Mean ({mean.Count} values) and std ({std.Count}) need the same, non-zero length.", nameof(mean));
        if (mean.Any(m => !double.IsFinite(m)) || std.Any(s => !(s > 0) || !double.IsFinite(s)))
            throw new ArgumentException("Means must be finite and standard deviations positive and finite.", nameof(std));
        Scale = scale;
        Mean = mean.ToArray();
        Std = std.ToArray();
        Multipliers = Mean.Select((_, c) => (float)(scale / Std[c])).ToArray();
        Offsets = Mean.Select((m, c) => (float)(-m / Std[c])).ToArray();
    }

    /// <summary>Leaves pixels as they are (scale 1, mean 0, std 1).</summary>
    public static PixelNormalization Identity { get; } = new(1.0, [0.0], [1.0]);

    /// <summary>Bytes to 0..1 and the CIFAR-10 channel statistics the original uses.</summary>
    public static PixelNormalization Cifar10 { get; } = new(1.0 / 255, [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]);

    /// <summary>Factor applied to raw pixels before the mean is subtracted.</summary>
    public double Scale { get; }

    /// <summary>Per-channel mean of the scaled pixels (one value: all channels).</summary>
    public IReadOnlyList<double> Mean { get; }

    /// <summary>Per-channel standard deviation of the scaled pixels (one value: all channels).</summary>
    public IReadOnlyList<double> Std { get; }

    /// <summary>Per-channel <c>Scale / Std[c]</c> as float32: the factor actually applied.</summary>
    [JsonIgnore]
    public IReadOnlyList<float> Multipliers { get; }

    /// <summary>Per-channel <c>-Mean[c] / Std[c]</c> as float32: the offset actually added.</summary>
    [JsonIgnore]
    public IReadOnlyList<float> Offsets { get; }

    /// <summary>
    /// Per-channel mean and (population) standard deviation of <paramref name="data"/> after multiplying by
    /// <paramref name="scale"/>. A constant channel gets std 1 so that it is only centred.
    /// </summary>
    public static PixelNormalization FromStatistics(ImageDataset data, double scale)
    {
        ArgumentNullException.ThrowIfNull(data);
        int channels = data.Channels, plane = data.Height * data.Width, size = data.ImageSize;
        var sum = new double[channels];
        var sumSquares = new double[channels];
        for (int image = 0; image < data.Count; image++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = image * size + c * plane;
                double s = 0, s2 = 0;
                if (data.StoresBytes)
                {
                    foreach (byte v in data.BytePixels.Slice(start, plane))
                    {
                        s += v;
                        s2 += v * v;
                    }
                }
                else
                {
                    foreach (float v in data.FloatPixels.Slice(start, plane))
                    {
                        s += v;
                        s2 += (double)v * v;
                    }
                }
                sum[c] += s;
                sumSquares[c] += s2;
            }
        }
        double n = (double)data.Count * plane;
        var mean = new double[channels];
        var std = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double m = n > 0 ? sum[c] / n : 0;
            double variance = n > 0 ? Math.Max(0, sumSquares[c] / n - m * m) : 0;
            mean[c] = m * scale;
            std[c] = variance > 0 ? Math.Sqrt(variance) * scale : 1.0;
        }
        return new PixelNormalization(scale, mean, std);
    }

    /// <summary>This normalisation with one mean and std per channel of an input with <paramref name="channels"/> channels.</summary>
    /// <exception cref="ArgumentException">It holds several values, but not <paramref name="channels"/>.</exception>
    public PixelNormalization ForChannels(int channels)
    {
        if (Mean.Count == channels)
            return this;
        if (Mean.Count != 1)
            throw new ArgumentException($"The normalisation has {Mean.Count} channels; the images have {channels}.", nameof(channels));
        return new PixelNormalization(Scale, Enumerable.Repeat(Mean[0], channels).ToArray(), Enumerable.Repeat(Std[0], channels).ToArray());
    }

    /// <summary>The per-channel multipliers and offsets as (1, C, 1, 1) float32 tensors on <paramref name="device"/>.</summary>
    internal (Tensor Multipliers, Tensor Offsets) ToTensors(int channels, Device device)
    {
        var expanded = ForChannels(channels);
        return (tensor(expanded.Multipliers.ToArray(), [1, channels, 1, 1], device: device),
            tensor(expanded.Offsets.ToArray(), [1, channels, 1, 1], device: device));
    }

    /// <summary>Returns normalised <paramref name="pixels"/> (B, C, H, W) as a new float32 tensor on their device.</summary>
    internal Tensor Apply(Tensor pixels)
    {
        using var scope = NewDisposeScope();
        var (multipliers, offsets) = ToTensors((int)pixels.shape[1], pixels.device);
        return Apply(pixels, multipliers, offsets).MoveToOuterDisposeScope();
    }

    /// <summary>The one place the formula is evaluated, so that every caller rounds the same way.</summary>
    internal static Tensor Apply(Tensor pixels, Tensor multipliers, Tensor offsets) => pixels.mul(multipliers).add_(offsets);

    /// <inheritdoc />
    public override string ToString() =>
        $"scale={Scale}, mean=[{string.Join(", ", Mean)}], std=[{string.Join(", ", Std)}]";
}
