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

    /// <summary>What <see cref="Save"/> wrote, read and checked by <see cref="Read"/>, not yet loaded.</summary>
    internal sealed class Saved
    {
        public required CheckpointBinaryReader File { get; init; }
        public required int BestEpoch { get; init; }
        public required double BestValue { get; init; }
        public required int EpochsWithoutImprovement { get; init; }
        public required IReadOnlyList<(string Name, StoredTensor Tensor)> Weights { get; init; }
    }

    /// <summary>
    /// Reads the file <see cref="Save"/> wrote and checks it against <paramref name="network"/> in managed code: sane
    /// counters, and either no weights or exactly the network's, each of its type and shape.
    /// </summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is truncated or damaged; the message names it.</exception>
    public static Saved Read(string path, CctNetwork network)
    {
        var file = CheckpointBinaryReader.Open(path, "the early-stopping tracker's best epoch and weights");
        int epoch = file.Int32("the best epoch");
        double value = file.Double("the best value");
        int withoutImprovement = file.Int32("the epochs without improvement");
        int at = file.Position;
        int count = file.Int32("the weight count");
        var live = network.state_dict();
        // Update sets the best epoch and the weights together: one without the other is damage.
        if (epoch < 0 || withoutImprovement < 0 || (epoch > 0) != (count > 0) || count != 0 && count != live.Count)
            throw file.Damaged($"best epoch {epoch}, {withoutImprovement} epochs without improvement and {count} weights; " +
                $"expected no best epoch and no weights, or a best epoch and the network's {live.Count} weights", at);
        var weights = new List<(string, StoredTensor)>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            at = file.Position;
            string name = file.String($"the name of weight {i}");
            if (!live.TryGetValue(name, out var like) || !seen.Add(name))
                throw file.Damaged($"weight '{name}' is {(seen.Contains(name) ? "listed twice" : "not one of the network's")}", at);
            var stored = file.Tensor($"weight '{name}'");
            if (!stored.Fits(like))
                throw file.Damaged($"weight '{name}' is {stored}; the network's is {StoredTensor.Describe(like.dtype, like.shape)}", stored.RecordOffset);
            weights.Add((name, stored));
        }
        file.ExpectEnd($"{count} weights");
        return new Saved { File = file, BestEpoch = epoch, BestValue = value, EpochsWithoutImprovement = withoutImprovement, Weights = weights };
    }

    /// <summary>Takes over what <see cref="Read"/> read; <paramref name="network"/> gives the device.</summary>
    public void Load(Saved saved, CctNetwork network)
    {
        BestEpoch = saved.BestEpoch > 0 ? saved.BestEpoch : null;
        BestValue = saved.BestEpoch > 0 ? saved.BestValue : null;
        EpochsWithoutImprovement = saved.EpochsWithoutImprovement;
        var live = network.state_dict();
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var stream = new MemoryStream(saved.File.Bytes, writable: false);
        using var reader = new BinaryReader(stream);
        foreach (var (name, stored) in saved.Weights)
        {
            // The record was checked against this tensor's type and shape: TorchSharp reads exactly its bytes.
            stream.Position = stored.RecordOffset;
            var like = live[name];
            var cpu = zeros(like.shape, like.dtype, CPU);
            TorchSharp.TensorExtensionMethods.Load(cpu, reader);
            weights[name] = cpu.to(like.device).DetachFromDisposeScope();
            if (!ReferenceEquals(weights[name], cpu))
                cpu.Dispose();
        }
        Replace(weights.Count > 0 ? weights : null);
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
