using System.Diagnostics;
using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// Trains a <see cref="CctNetwork"/> in place: shuffled mini-batches, augmentation, label-smoothed cross-entropy,
/// AdamW with a warmup-cosine learning rate set before every step, the value-mixing schedule written into the network
/// before every step, and a validation pass after every epoch.
/// </summary>
/// <remarks>
/// Reproducible: the same seed, thread count, data and settings give bitwise-identical losses and weights on the CPU,
/// because every epoch seeds libtorch's generator and a <see cref="Random"/> (order, augmentation and mixing
/// decisions) from (seed, epoch). Every tensor of a step lives on <see cref="Device"/>: the network is moved there and
/// left there; off the CPU the batches are cut, cropped, flipped and normalised there too (<see cref="DeviceBatchStream"/>,
/// the same images as the CPU's per-image path), and the running sums stay there until the epoch ends.
/// Optional checkpoints after every N epochs let a run resume exactly (<see cref="TrainingCheckpoint"/>).
/// </remarks>
internal sealed class CctTrainingLoop
{
    private readonly CctNetwork network;
    private readonly TrainingSettings settings;

    /// <param name="network">The network to train, on any device (it is moved).</param>
    /// <param name="settings">The settings; checked here.</param>
    /// <param name="device">
    /// The device to train on; null resolves <see cref="TrainingSettings.Device"/> (which throws when it asks for CUDA and
    /// there is none).
    /// </param>
    public CctTrainingLoop(CctNetwork network, TrainingSettings settings, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        this.network = network;
        this.settings = settings;
        Device = device ?? TrainingDevices.Resolve(settings.Device);
    }

    /// <summary>The device every tensor of training lives on.</summary>
    public Device Device { get; }

    /// <summary>
    /// Whether batches are assembled on the device (<see cref="DeviceBatchStream"/>) when the augmentation allows it;
    /// null (the default) does so everywhere but on the CPU, whose per-image path is as fast there.
    /// </summary>
    internal bool? BatchesOnDevice { get; init; }

    /// <summary>
    /// Runs the whole schedule (or, with <see cref="TrainingSettings.ResumeFrom"/>, the rest of it). Cancellation is
    /// honoured at the next batch boundary: the method then returns normally with <see cref="TrainingResult.Cancelled"/>
    /// set. With an early-stopping metric and validation data the network ends with the best epoch's weights, also
    /// when cancelled or stopped early; otherwise with the weights trained so far.
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
        if (settings.AugmentationPolicy != AugmentationPolicy.None && !train.StoresBytes)
            throw new ArgumentException(
                $"TrainingSettings.AugmentationPolicy {settings.AugmentationPolicy} works on 8-bit images (integer pixel values 0..255), " +
                "but the training set holds other values (e.g. pixels already scaled to 0..1). Give the pixels unscaled, or set the policy to None.",
                nameof(train));

        var resumed = settings.ResumeFrom is { } from ? TrainingCheckpoint.ReadState(from) : null;
        var normalization = (resumed?.Normalization ?? settings.Normalization
            ?? PixelNormalization.FromStatistics(train, train.StoresBytes ? 1.0 / 255 : 1.0)).ForChannels(train.Channels);
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
        var device = Device;
        network.to(device);
        // The flat optimizer takes over the parameters' storage: only after the network is on its device.
        bool flat = settings.FlatOptimizer ?? true;
        // Weight decay on everything: the original's legacy torch.optim.AdamW(model.parameters()); one group unless
        // the head and the body learn at different rates.
        var (adamW, rateMultipliers) = OptimizerGroups.CreateAdamW(network, settings, flat);
        using var optimizer = adamW;
        var parameters = network.parameters().Where(p => p.requires_grad).ToArray();
        var precision = Autocast.DtypeOf(settings.MixedPrecision);

        int batchSize = Math.Min(settings.BatchSize, train.Count);
        int stepsPerEpoch = (train.Count + batchSize - 1) / batchSize;
        var schedule = WarmupCosineSchedule.For(settings, stepsPerEpoch);
        var mixing = settings.MixingSchedule
            ?? MixingSchedule.Constant(settings.Alpha ?? network.Mixing.Alpha, settings.Beta ?? network.Mixing.Beta);
        var augmentations = ImageAugmentation.For(settings, normalization);
        var imageMixing = MixupCutMix.For(settings);
        bool onDevice = (BatchesOnDevice ?? device.type != DeviceType.CPU) && DeviceBatchStream.Supports(augmentations, imageMixing);
        using IBatchSource batches = onDevice
            ? new DeviceBatchStream(train, batchSize, normalization, device, BatchCropAndFlip.From(augmentations))
            : new BatchLoader(train, batchSize, normalization, device, augmentations, imageMixing);
        int evaluationBatchSize = settings.EvaluationBatchSize ?? settings.BatchSize;
        using var tracker = BestEpochTracker.For(settings, validation is not null);

        var history = new TrainingHistory();
        int firstEpoch = 0;
        long step = 0;
        if (settings.ResumeFrom is { } from)
        {
            var state = TrainingCheckpoint.Restore(from, settings, train.Count, network, optimizer, tracker);
            history = new TrainingHistory(state.History.Epochs);
            firstEpoch = state.EpochsCompleted;
            step = state.Steps;
        }

        // Each step's activations reuse the previous step's pages instead of faulting in fresh ones (MallocArenas).
        using var heap = device.type == DeviceType.CPU ? MallocArenas.ReuseFreedBlocks() : null;
        using var halves = HalfBatchStep.For(device, imageMixing is not null, precision is not null);
        int imagesPerPiece = HalfBatchStep.ImagesPerPiece(network.Architecture);
        var order = new int[train.Count];
        double learningRate = schedule.At(Math.Min(step, schedule.TotalSteps - 1));
        bool stoppedEarly = false;
        for (int epoch = firstEpoch; epoch < settings.Epochs && !stoppedEarly; epoch++)
        {
            var clock = Stopwatch.StartNew();
            // Every epoch starts from generators seeded by (seed, epoch) alone, so a run resumed at an epoch boundary
            // makes the same draws as an uninterrupted one without storing generator state.
            var (torchSeed, dataSeed) = EpochSeeds(settings.Seed, epoch);
            manual_seed(torchSeed);
            halves?.Seed(torchSeed);
            if (device.type == DeviceType.CUDA)
                cuda.manual_seed_all(torchSeed);
            var random = new Random(dataSeed);
            Shuffle(order, random);
            network.train();
            batches.Begin(order, random);
            // Running sums stay on the device; reading them once per epoch avoids a GPU sync per batch. One pair per
            // half-batch thread, so that the halves never add into the same tensor at once.
            using var lossSums = zeros(2, ScalarType.Float64, device);
            using var corrects = zeros(2, ScalarType.Int64, device);
            for (int start = 0; start < order.Length; start += batchSize)
            {
                if (cancellationToken.IsCancellationRequested)
                    return Finish(history, normalization, step, tracker, cancelled: true, stoppedEarly: false, onDevice);
                using var scope = NewDisposeScope();
                int count = Math.Min(batchSize, order.Length - start);

                learningRate = schedule.At(step);
                OptimizerGroups.SetLearningRate(optimizer, learningRate, rateMultipliers);
                (network.Mixing.Alpha, network.Mixing.Beta) = mixing.At(epoch, step);
                history.RecordMixing(step, network.Mixing.Alpha, network.Mixing.Beta);

                var (images, labels, ownWeights) = batches.Next();
                optimizer.zero_grad();
                if (halves is null)
                    ForwardBackward(images, labels, ownWeights, lossSums[0], corrects[0], precision);
                else
                    halves.Run(part => TrainHalf(part, images, labels, imagesPerPiece, lossSums, corrects));
                if (settings.GradientClipNorm is { } maxNorm)
                {
                    if (optimizer is FlatAdamW flatAdamW)
                        flatAdamW.ClipGradientNorm(maxNorm);
                    else
                        nn.utils.clip_grad_norm_(parameters, maxNorm);
                }
                optimizer.step();
                step++;
                int stepInEpoch = start / batchSize + 1;
                if (settings.StepCallback is { } onStep && (stepInEpoch % settings.StepCallbackEvery == 0 || stepInEpoch == stepsPerEpoch))
                {
                    // Only here does the running loss leave the device (one sync per call, not per step).
                    double runningLoss = ReadSum(lossSums) / (start + count);
                    onStep(new StepProgress(epoch + 1, settings.Epochs, stepInEpoch, stepsPerEpoch, runningLoss, learningRate));
                }
            }
            // Cancelled in the epoch's last step: return now rather than after a validation pass (the epoch, trained but not
            // evaluated, is not recorded, as a part-trained one is not).
            if (cancellationToken.IsCancellationRequested)
                return Finish(history, normalization, step, tracker, cancelled: true, stoppedEarly: false, onDevice);
            double trainSeconds = clock.Elapsed.TotalSeconds;
            double trainLoss = ReadSum(lossSums) / train.Count;
            double trainAccuracy = ReadSum(corrects) / train.Count;

            EvaluationMetrics? evaluation = null;
            if (validation is not null)
            {
                using (halves?.AllThreads())
                    evaluation = CctPredictor.Evaluate(network, validation, normalization, evaluationBatchSize, settings.MixedPrecision, cancellationToken);
            }
            if (cancellationToken.IsCancellationRequested)
                return Finish(history, normalization, step, tracker, cancelled: true, stoppedEarly: false, onDevice);
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
            tracker?.Update(metrics, network);
            stoppedEarly = tracker?.ShouldStop == true && epoch + 1 < settings.Epochs;
            if (settings.CheckpointEvery > 0 && ((epoch + 1) % settings.CheckpointEvery == 0 || epoch + 1 == settings.Epochs || stoppedEarly))
            {
                var state = new TrainingCheckpoint.State
                {
                    FormatVersion = 1,
                    EpochsCompleted = epoch + 1,
                    Steps = step,
                    TrainingImages = train.Count,
                    History = new TrainingHistory(history.Epochs),
                    Normalization = normalization,
                    Settings = settings,
                };
                TrainingCheckpoint.Write(settings.CheckpointFolder!, state, network, optimizer, tracker);
            }
            // Each training thread trims its own heap (halves.Run runs on this thread and the worker).
            if (halves is null)
                MallocArenas.ReleaseThisThreadsHeapTop();
            else
                halves.Run(_ => MallocArenas.ReleaseThisThreadsHeapTop());
            MallocArenas.ReleaseFreePages();
            // Told after the release: a callback that reads the resident set sees the epoch's resting footprint, and its
            // reading is not the next epoch's starting point.
            progress?.Report(metrics);
        }
        return Finish(history, normalization, step, tracker, cancelled: false, stoppedEarly, onDevice);
    }

    /// <summary>
    /// Forward, loss and backward of a whole batch; adds the batch's loss sum and correct count to the running sums. Under
    /// autocast when mixed precision is on (backward follows the recorded types).
    /// </summary>
    private void ForwardBackward(Tensor images, Tensor labels, Tensor? ownWeights, Tensor lossSum, Tensor correct, ScalarType? precision)
    {
        Tensor logits, loss;
        using (Autocast.Enter(Device, precision))
        {
            logits = network.call(images);
            loss = ownWeights is null
                ? ClassificationLoss.CrossEntropy(logits, labels, settings.LabelSmoothing)
                : ClassificationLoss.MixedCrossEntropy(logits, labels, ownWeights, settings.LabelSmoothing);
        }
        loss.backward();
        AddStatistics(logits, loss, labels, lossSum, correct);
    }

    /// <summary>
    /// Half <paramref name="part"/> of a batch (<see cref="HalfBatchStep"/>), in pieces where the network's activations
    /// call for them: the loss weighted by the half's share of the batch, back-propagated into the shared gradients; its
    /// loss sum and correct count added to element <paramref name="part"/> of the running sums. Every tensor it makes is in
    /// a dispose scope of its own, on whichever thread.
    /// </summary>
    private void TrainHalf(int part, Tensor images, Tensor labels, int imagesPerPiece, Tensor lossSums, Tensor corrects) =>
        HalfBatchStep.Backward(part, images, labels, imagesPerPiece, (pieceImages, pieceLabels) =>
        {
            var logits = network.call(pieceImages);
            var loss = ClassificationLoss.CrossEntropy(logits, pieceLabels, settings.LabelSmoothing);
            AddStatistics(logits, loss, pieceLabels, lossSums[part], corrects[part]);
            return loss;
        });

    private static void AddStatistics(Tensor logits, Tensor meanLoss, Tensor labels, Tensor lossSum, Tensor correct)
    {
        using (no_grad())
        {
            lossSum.add_(meanLoss.detach().to_type(ScalarType.Float64).mul(labels.shape[0]));
            // With mixing, an image counts as right when the top logit is its own (pre-mixing) label.
            correct.add_(logits.argmax(1).eq(labels).sum());
        }
    }

    // Both halves' running sums, read from the device at once.
    private static double ReadSum(Tensor sums)
    {
        using var total = sums.sum();
        return DeviceScalars.Read(total);
    }

    // The best epoch's weights replace the last ones whenever a metric picks one.
    private TrainingResult Finish(TrainingHistory history, PixelNormalization normalization, long step, BestEpochTracker? tracker,
        bool cancelled, bool stoppedEarly, bool onDevice)
    {
        bool restored = tracker?.RestoreBest(network) == true;
        return new TrainingResult(history, normalization, step, cancelled)
        {
            BestEpoch = restored ? tracker!.BestEpoch : null,
            StoppedEarly = stoppedEarly,
            Device = TrainingDevices.Describe(Device),
            BatchesOnDevice = onDevice,
        };
    }

    /// <summary>libtorch and data-order seeds of a 0-based epoch: SplitMix64 of (seed, epoch), so neighbouring epochs and seeds are unrelated.</summary>
    internal static (long Torch, int Data) EpochSeeds(int seed, int epoch)
    {
        ulong h = SplitMix((ulong)(uint)seed << 32 | (uint)epoch);
        return ((long)(h >> 1), (int)(SplitMix(h) >> 33));
    }

    private static ulong SplitMix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
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
