using System.Diagnostics;
using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Trains a <see cref="CctNetwork"/> in place: shuffled mini-batches, per-image augmentation, label-smoothed
/// cross-entropy, AdamW with a warmup-cosine learning rate set before every step, the value-mixing schedule
/// written into the network before every step, and a validation pass after every epoch.
/// </summary>
/// <remarks>
/// Reproducible: the same seed, thread count, data and settings give bitwise-identical losses and weights,
/// because libtorch's generator is seeded and the order and augmentation decisions come from one seeded
/// <see cref="Random"/>. The network is trained on whatever device its parameters are on.
/// </remarks>
internal sealed class CctTrainingLoop
{
    private readonly CctNetwork network;
    private readonly TrainingSettings settings;

    public CctTrainingLoop(CctNetwork network, TrainingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        this.network = network;
        this.settings = settings;
    }

    /// <summary>
    /// Runs the whole schedule. Cancellation is honoured at the next batch boundary: the method then returns
    /// normally with <see cref="TrainingResult.Cancelled"/> set and the network as trained so far.
    /// </summary>
    /// <param name="train">Training images; shape and classes must fit the network.</param>
    /// <param name="validation">Evaluated after every epoch; null (or empty) for none.</param>
    /// <param name="progress">Told about every completed epoch, on the training thread.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public TrainingResult Run(ImageDataset train, ImageDataset? validation = null, IProgress<EpochMetrics>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        TorchRuntime.EnsureInitialized();
        CheckFits(train, nameof(train));
        if (train.Count == 0)
            throw new ArgumentException("The training set has no images.", nameof(train));
        if (validation is not null)
            CheckFits(validation, nameof(validation));

        var normalization = (settings.Normalization ?? PixelNormalization.FromStatistics(train, train.StoresBytes ? 1.0 / 255 : 1.0))
            .ForChannels(train.Channels);
        int previousThreads = get_num_threads();
        if (settings.Threads > 0)
            set_num_threads(settings.Threads);
        try
        {
            return Train(train, validation is { Count: > 0 } ? validation : null, normalization, progress, cancellationToken);
        }
        finally
        {
            // The thread count is process-wide: leave it as we found it.
            if (settings.Threads > 0)
                set_num_threads(previousThreads);
        }
    }

    private TrainingResult Train(ImageDataset train, ImageDataset? validation, PixelNormalization normalization,
        IProgress<EpochMetrics>? progress, CancellationToken cancellationToken)
    {
        manual_seed(settings.Seed);
        var random = new Random(settings.Seed);
        var device = CctPredictor.DeviceOf(network);
        var parameters = network.parameters().Where(p => p.requires_grad).ToArray();
        // Weight decay on everything: the original's legacy torch.optim.AdamW(model.parameters()); one group unless
        // the head and the body learn at different rates.
        var (adamW, rateMultipliers) = OptimizerGroups.CreateAdamW(network, settings);
        using var optimizer = adamW;

        int batchSize = Math.Min(settings.BatchSize, train.Count);
        int stepsPerEpoch = (train.Count + batchSize - 1) / batchSize;
        var schedule = WarmupCosineSchedule.For(settings, stepsPerEpoch);
        var mixing = settings.MixingSchedule
            ?? MixingSchedule.Constant(settings.Alpha ?? network.Mixing.Alpha, settings.Beta ?? network.Mixing.Beta);
        using var loader = new BatchLoader(train, batchSize, normalization, device, ImageAugmentation.For(settings));
        int evaluationBatchSize = settings.EvaluationBatchSize ?? settings.BatchSize;

        var history = new TrainingHistory();
        var order = new int[train.Count];
        long step = 0;
        double learningRate = schedule.At(0);
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            Shuffle(order, random);
            network.train();
            // Running sums stay on the device; reading them once per epoch avoids a GPU sync per batch.
            using var lossSum = zeros(1, ScalarType.Float64, device);
            using var correct = zeros(1, ScalarType.Int64, device);
            for (int start = 0; start < order.Length; start += batchSize)
            {
                if (cancellationToken.IsCancellationRequested)
                    return new TrainingResult(history, normalization, step, Cancelled: true);
                using var scope = NewDisposeScope();
                var indices = order.AsSpan(start, Math.Min(batchSize, order.Length - start));

                learningRate = schedule.At(step);
                OptimizerGroups.SetLearningRate(optimizer, learningRate, rateMultipliers);
                (network.Mixing.Alpha, network.Mixing.Beta) = mixing.At(epoch, step);
                history.RecordMixing(step, network.Mixing.Alpha, network.Mixing.Beta);

                var (images, labels) = loader.Load(indices, random);
                optimizer.zero_grad();
                var logits = network.call(images);
                var loss = ClassificationLoss.CrossEntropy(logits, labels, settings.LabelSmoothing);
                loss.backward();
                if (settings.GradientClipNorm is { } maxNorm)
                    nn.utils.clip_grad_norm_(parameters, maxNorm);
                optimizer.step();

                using (no_grad())
                {
                    lossSum.add_(loss.detach().to_type(ScalarType.Float64).mul(indices.Length));
                    correct.add_(logits.argmax(1).eq(labels).sum());
                }
                step++;
            }
            double trainSeconds = clock.Elapsed.TotalSeconds;
            double trainLoss = lossSum.item<double>() / train.Count;
            double trainAccuracy = correct.item<long>() / (double)train.Count;

            var evaluation = validation is null ? null : CctPredictor.Evaluate(network, validation, normalization, evaluationBatchSize);
            var metrics = new EpochMetrics
            {
                Epoch = epoch + 1,
                Steps = step,
                TrainLoss = trainLoss,
                TrainAccuracy = trainAccuracy,
                ValidationLoss = evaluation?.Loss,
                ValidationTop1 = evaluation?.Top1,
                ValidationTop5 = evaluation?.Top5,
                LearningRate = learningRate,
                Alpha = network.Mixing.Alpha,
                Beta = network.Mixing.Beta,
                Seconds = clock.Elapsed.TotalSeconds,
                ImagesPerSecond = train.Count / Math.Max(trainSeconds, 1e-9),
            };
            history.Add(metrics);
            progress?.Report(metrics);
        }
        return new TrainingResult(history, normalization, step, Cancelled: false);
    }

    // Fisher-Yates over 0..n-1 from our own generator, so the order depends on the seed alone.
    private static void Shuffle(int[] order, Random random)
    {
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private void CheckFits(ImageDataset data, string name)
    {
        var a = network.Architecture;
        if (data.Channels != a.InputChannels || data.Height != a.ImageHeight || data.Width != a.ImageWidth)
            throw new ArgumentException(
                $"The {name} images are {data.Channels}x{data.Height}x{data.Width}; the network takes {a.InputChannels}x{a.ImageHeight}x{a.ImageWidth}.", name);
        if (data.ClassCount > a.NumClasses)
            throw new ArgumentException($"The {name} set has {data.ClassCount} classes; the network's head has {a.NumClasses}.", name);
    }
}
