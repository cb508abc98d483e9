using Microsoft.ML.CompactTransformer.Modeling;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Early stopping and best-epoch selection: follows one validation metric, keeps a copy of the weights of the best
/// epoch so far, and counts the epochs since it last improved.
/// </summary>
internal sealed class BestEpochTracker : IDisposable
{
    private Dictionary<string, Tensor>? bestWeights;

    public BestEpochTracker(EarlyStoppingMetric metric, int patience, double minDelta)
    {
        if (metric == EarlyStoppingMetric.None)
            throw new ArgumentException("A tracker needs a metric.", nameof(metric));
        Metric = metric;
        Patience = patience;
        MinDelta = minDelta;
    }

    public EarlyStoppingMetric Metric { get; }
    public int Patience { get; }
    public double MinDelta { get; }

    /// <summary>1-based epoch of the best value so far; null before the first epoch.</summary>
    public int? BestEpoch { get; private set; }

    /// <summary>The best value so far.</summary>
    public double? BestValue { get; private set; }

    /// <summary>Epochs since the best one.</summary>
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>True when the patience is used up.</summary>
    public bool ShouldStop => Patience > 0 && EpochsWithoutImprovement >= Patience;

    /// <summary>The tracker <paramref name="settings"/> ask for, or null without a metric or validation data.</summary>
    public static BestEpochTracker? For(TrainingSettings settings, bool hasValidation) =>
        hasValidation && settings.EarlyStoppingMetric != EarlyStoppingMetric.None
            ? new BestEpochTracker(settings.EarlyStoppingMetric, settings.EarlyStoppingPatience, settings.EarlyStoppingMinDelta)
            : null;

    /// <summary>Takes in a completed epoch; when it is the best so far, copies <paramref name="network"/>'s weights. Returns whether it improved.</summary>
    public bool Update(EpochMetrics metrics, CctNetwork network)
    {
        double? value = Metric == EarlyStoppingMetric.ValidationLoss ? metrics.ValidationLoss : metrics.ValidationTop1;
        bool improved = value is { } v && !double.IsNaN(v) && (BestValue is not { } best
            || (Metric == EarlyStoppingMetric.ValidationLoss ? v < best - MinDelta : v > best + MinDelta));
        if (!improved)
        {
            EpochsWithoutImprovement++;
            return false;
        }
        BestEpoch = metrics.Epoch;
        BestValue = value;
        EpochsWithoutImprovement = 0;
        Replace(Snapshot(network));
        return true;
    }

    /// <summary>Copies the best epoch's weights into <paramref name="network"/>; false (and nothing done) before any epoch.</summary>
    public bool RestoreBest(CctNetwork network)
    {
        if (bestWeights is null)
            return false;
        using var noGrad = no_grad();
        foreach (var (name, live) in network.state_dict())
            live.copy_(bestWeights[name]);
        return true;
    }

    /// <summary>Writes the tracker (position and best weights) for a checkpoint.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(BestEpoch ?? 0);
        writer.Write(BestValue ?? double.NaN);
        writer.Write(EpochsWithoutImprovement);
        writer.Write(bestWeights?.Count ?? 0);
        foreach (var (name, t) in bestWeights ?? [])
        {
            writer.Write(name);
            using var cpu = t.cpu();
            TorchSharp.TensorExtensionMethods.Save(cpu, writer);
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote; <paramref name="network"/> gives the tensor shapes and device.</summary>
    public void Load(BinaryReader reader, CctNetwork network)
    {
        int epoch = reader.ReadInt32();
        double value = reader.ReadDouble();
        BestEpoch = epoch > 0 ? epoch : null;
        BestValue = epoch > 0 ? value : null;
        EpochsWithoutImprovement = reader.ReadInt32();
        int count = reader.ReadInt32();
        var live = network.state_dict();
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            if (!live.TryGetValue(name, out var like))
                throw new InvalidDataException($"The checkpoint's best weights hold '{name}', which the network does not have.");
            var cpu = zeros(like.shape, like.dtype);
            TorchSharp.TensorExtensionMethods.Load(cpu, reader);
            weights[name] = cpu.to(like.device).DetachFromDisposeScope();
            if (!ReferenceEquals(weights[name], cpu))
                cpu.Dispose();
        }
        Replace(count > 0 ? weights : null);
    }

    private static Dictionary<string, Tensor> Snapshot(CctNetwork network)
    {
        // Under no_grad a clone is already detached; a detach() in between would be one more handle per weight that nothing disposes.
        using var noGrad = no_grad();
        return network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope(), StringComparer.Ordinal);
    }

    private void Replace(Dictionary<string, Tensor>? weights)
    {
        if (bestWeights is not null)
            foreach (var t in bestWeights.Values)
                t.Dispose();
        bestWeights = weights;
    }

    public void Dispose() => Replace(null);
}
