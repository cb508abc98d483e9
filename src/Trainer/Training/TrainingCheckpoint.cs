using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using TorchSharp.Modules;

namespace Microsoft.ML.CompactTransformer.Training;

/// <summary>
/// A training checkpoint: one folder <c>epoch-NNNN</c> holding the network's weights (<c>model.bin</c>, TorchSharp's
/// <c>Module.save</c> format), AdamW's state (<c>optimizer.bin</c>: step counts and both moments per parameter),
/// the early-stopping tracker with its best weights (<c>best.bin</c>), and <c>state.json</c>: epochs and steps done,
/// the learning curve, the input normalisation and the settings. The folder is written under a temporary name and
/// renamed, so a folder with the final name is always complete, also when the process is killed while writing it.
/// </summary>
/// <remarks>
/// No random-generator state is stored: the loop re-seeds libtorch's generator and its own <see cref="Random"/> from
/// (seed, epoch) at the start of every epoch, so a run resumed at an epoch boundary draws exactly what an
/// uninterrupted run would. The learning-rate schedule is a function of the step count, which is stored.
/// </remarks>
internal static class TrainingCheckpoint
{
    private const string StateFile = "state.json";
    private const string ModelFile = "model.bin";
    private const string OptimizerFile = "optimizer.bin";
    private const string TrackerFile = "best.bin";
    private const int FormatVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>What <c>state.json</c> holds.</summary>
    internal sealed record State
    {
        public int FormatVersion { get; init; }
        public int EpochsCompleted { get; init; }
        public long Steps { get; init; }
        public int TrainingImages { get; init; }
        public required TrainingHistory History { get; init; }
        public required PixelNormalization Normalization { get; init; }
        public required TrainingSettings Settings { get; init; }

        /// <summary>
        /// SHA-256 (hex) of each binary file of the checkpoint by name, checked on reading: damage inside a tensor's data
        /// leaves a file well-formed, and would otherwise resume silently from wrong numbers. Null in checkpoints written
        /// before this was kept.
        /// </summary>
        public IReadOnlyDictionary<string, string>? FileHashes { get; init; }
    }

    /// <summary>Folder name of the checkpoint after <paramref name="epochsCompleted"/> epochs.</summary>
    public static string FolderName(int epochsCompleted) => string.Create(CultureInfo.InvariantCulture, $"epoch-{epochsCompleted:D4}");

    /// <summary>
    /// Writes a checkpoint into <paramref name="root"/> and returns its folder. It is written under a temporary name and
    /// renamed (<see cref="AtomicFile.WriteFolder"/>): a failed or killed write leaves no folder with the final name, and
    /// an older checkpoint of the same epoch stays as it was until the new one is complete.
    /// </summary>
    public static string Write(string root, State state, CctNetwork network, OptimizerHelper optimizer, BestEpochTracker? tracker)
    {
        string final = Path.Combine(Path.GetFullPath(root), FolderName(state.EpochsCompleted));
        // A run killed while writing this epoch's checkpoint left its temporary folder; this run writes the epoch anew.
        AtomicFile.DeleteLeftovers(final);
        AtomicFile.WriteFolder(final, temporary =>
        {
            network.save(Path.Combine(temporary, ModelFile));
            OptimizerStateFile.Save(optimizer, Path.Combine(temporary, OptimizerFile));
            if (tracker is not null)
            {
                using var writer = new BinaryWriter(File.Create(Path.Combine(temporary, TrackerFile)));
                tracker.Save(writer);
            }
            var hashes = new[] { ModelFile, OptimizerFile, TrackerFile }.Where(f => File.Exists(Path.Combine(temporary, f)))
                .ToDictionary(f => f, f => Sha256(File.ReadAllBytes(Path.Combine(temporary, f))));
            File.WriteAllText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(state with { FileHashes = hashes }, Json));
        });
        return final;
    }

    /// <summary>
    /// The checkpoint folder <paramref name="path"/> names: itself when it holds a <c>state.json</c>, otherwise its
    /// latest complete <c>epoch-NNNN</c> subfolder.
    /// </summary>
    public static string Locate(string path)
    {
        if (File.Exists(Path.Combine(path, StateFile)))
            return path;
        if (!Directory.Exists(path))
            throw new DirectoryNotFoundException($"Checkpoint folder '{path}' does not exist.");
        return Directory.GetDirectories(path, "epoch-*")
            .Where(d => File.Exists(Path.Combine(d, StateFile)))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .LastOrDefault()
            ?? throw new FileNotFoundException($"'{path}' holds no checkpoint: neither a {StateFile} nor an epoch-NNNN folder with one.");
    }

    /// <summary>
    /// Loads only the weights of the checkpoint <paramref name="path"/> names into <paramref name="network"/> (same
    /// architecture), to start a new run from them, e.g. fine-tuning by deformation.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">There is no folder at <paramref name="path"/>.</exception>
    /// <exception cref="FileNotFoundException">The folder holds no checkpoint, or the checkpoint lacks its weights file.</exception>
    /// <exception cref="InvalidDataException">The weights file is truncated or damaged; the message names it.</exception>
    /// <exception cref="CheckpointMismatchException">The weights are of another network; the message lists every offending key.</exception>
    public static void LoadWeights(string path, CctNetwork network)
    {
        string folder = Locate(path);
        var state = ReadState(folder);
        var weights = ModuleWeightsFile.Read(Path.Combine(folder, ModelFile));
        CheckHash(folder, state, ModelFile, weights.Bytes);
        weights.LoadInto(network);
    }

    /// <summary>Reads <c>state.json</c> of the checkpoint <paramref name="path"/> names (see <see cref="Locate"/>).</summary>
    /// <exception cref="DirectoryNotFoundException">There is no folder at <paramref name="path"/>.</exception>
    /// <exception cref="FileNotFoundException">The folder holds no checkpoint.</exception>
    /// <exception cref="InvalidDataException">
    /// <c>state.json</c> is not valid JSON of a checkpoint state, lacks a part, holds impossible counts, or is of another
    /// format version; the message names the file.
    /// </exception>
    public static State ReadState(string path)
    {
        string folder = Locate(path);
        string file = Path.Combine(folder, StateFile);
        State? state;
        try
        {
            state = JsonSerializer.Deserialize<State>(File.ReadAllText(file), Json);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException or FormatException
            or OverflowException or InvalidOperationException or DecoderFallbackException)
        {
            throw new InvalidDataException($"'{file}' is not a valid checkpoint state: {e.Message}", e);
        }
        if (state is null)
            throw new InvalidDataException($"'{file}' holds no checkpoint state (JSON null).");
        if (state.FormatVersion != FormatVersion)
            throw new InvalidDataException($"'{file}' is a checkpoint of format {state.FormatVersion}; this version reads format {FormatVersion}.");
        // 'required' only asks for the property to be there; an explicit null gets through it.
        if (state.History?.Epochs is null || state.Normalization is null || state.Settings is null)
            throw new InvalidDataException($"'{file}' lacks its history, normalisation or settings.");
        if (state.EpochsCompleted < 0 || state.Steps < 0 || state.TrainingImages < 0)
            throw new InvalidDataException(
                $"'{file}' holds {state.EpochsCompleted} epochs, {state.Steps} steps and {state.TrainingImages} training images; none may be negative.");
        return state;
    }

    /// <summary>
    /// Loads the weights, optimizer and tracker of the checkpoint <paramref name="path"/> names, after checking that it
    /// was written by a run with the same settings (thread count, device and checkpoint options may differ) and as many
    /// training images. Every file is read and checked before anything is loaded, so a failure leaves the network,
    /// optimizer and tracker as they were.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">There is no folder at <paramref name="path"/>.</exception>
    /// <exception cref="FileNotFoundException">The folder holds no checkpoint, or the checkpoint lacks a file.</exception>
    /// <exception cref="InvalidDataException">A file of the checkpoint is truncated or damaged; the message names it.</exception>
    /// <exception cref="CheckpointMismatchException">The weights are of another network; the message lists every offending key.</exception>
    /// <exception cref="InvalidOperationException">The checkpoint was written by a run with other settings or data.</exception>
    public static State Restore(string path, TrainingSettings settings, int trainingImages, CctNetwork network, OptimizerHelper optimizer,
        BestEpochTracker? tracker)
    {
        string folder = Locate(path);
        var state = ReadState(folder);
        var differences = Differences(state.Settings, settings);
        if (differences.Count > 0)
            throw new InvalidOperationException(
                $"Checkpoint '{folder}' was written with other settings, so resuming would not continue that run: {string.Join("; ", differences)}.");
        if (state.TrainingImages != trainingImages)
            throw new InvalidOperationException(
                $"Checkpoint '{folder}' was written for {state.TrainingImages} training images; this run has {trainingImages}.");

        var weights = ModuleWeightsFile.Read(Path.Combine(folder, ModelFile));
        CheckHash(folder, state, ModelFile, weights.Bytes);
        weights.CheckFits(network);
        var optimizerState = OptimizerStateFile.Read(Path.Combine(folder, OptimizerFile), optimizer);
        CheckHash(folder, state, OptimizerFile, optimizerState.Bytes);
        string trackerPath = Path.Combine(folder, TrackerFile);
        var trackerState = tracker is not null && File.Exists(trackerPath) ? BestEpochTracker.Read(trackerPath, network) : null;
        if (trackerState is not null)
            CheckHash(folder, state, TrackerFile, trackerState.File.Bytes);

        weights.LoadInto(network);
        optimizerState.LoadInto(optimizer);
        if (trackerState is not null)
            tracker!.Load(trackerState, network);
        return state;
    }

    /// <summary>Throws when <paramref name="bytes"/> of <paramref name="file"/> are not what the checkpoint's state recorded.</summary>
    private static void CheckHash(string folder, State state, string file, byte[] bytes)
    {
        if (state.FileHashes is null)
            return; // written before hashes were kept
        string path = Path.Combine(folder, file);
        if (!state.FileHashes.TryGetValue(file, out var expected))
            throw new InvalidDataException($"'{Path.Combine(folder, StateFile)}' records no SHA-256 for '{path}'; the checkpoint is incomplete or damaged.");
        string actual = Sha256(bytes);
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException(
                $"'{path}' is damaged: its SHA-256 is {actual}, but '{Path.Combine(folder, StateFile)}' records {expected} for it.");
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    // The settings that shape the run, as JSON properties; those that only say where or how fast it runs are left out
    // (the device and the number format too: a run may go on elsewhere, e.g. finish on the CPU what began on a GPU).
    private static List<string> Differences(TrainingSettings saved, TrainingSettings now)
    {
        static JsonObject Shape(TrainingSettings s) => JsonSerializer.SerializeToNode(s with
        {
            Threads = 0, Device = TrainingDevice.Auto, MixedPrecision = MixedPrecision.None, FlatOptimizer = null, EvaluationBatchSize = null,
            CheckpointEvery = 0, CheckpointFolder = null, ResumeFrom = null, MixingSchedule = null,
        }, Json)!.AsObject();
        var a = Shape(saved);
        var b = Shape(now);
        var result = new List<string>();
        foreach (var (name, value) in a)
        {
            string before = value?.ToJsonString() ?? "null", after = b[name]?.ToJsonString() ?? "null";
            if (before != after)
                result.Add($"{name} was {before}, now {after}");
        }
        return result;
    }
}
