using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
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
            optimizer.save_state_dict(Path.Combine(temporary, OptimizerFile));
            if (tracker is not null)
            {
                using var writer = new BinaryWriter(File.Create(Path.Combine(temporary, TrackerFile)));
                tracker.Save(writer);
            }
            File.WriteAllText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(state, Json));
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
    public static void LoadWeights(string path, CctNetwork network)
    {
        string folder = Locate(path);
        try
        {
            network.load(Path.Combine(folder, ModelFile));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            throw new InvalidDataException(
                $"The weights of checkpoint '{folder}' do not fit the network ({network.Architecture.Name ?? "custom"}, " +
                $"{network.Architecture.NumClasses} classes): {e.Message}", e);
        }
    }

    /// <summary>Reads <c>state.json</c> of the checkpoint <paramref name="path"/> names (see <see cref="Locate"/>).</summary>
    public static State ReadState(string path)
    {
        string folder = Locate(path);
        var state = JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(folder, StateFile)), Json)
            ?? throw new InvalidDataException($"'{folder}' has an empty {StateFile}.");
        if (state.FormatVersion != FormatVersion)
            throw new InvalidDataException($"'{folder}' is a checkpoint of format {state.FormatVersion}; this version reads format {FormatVersion}.");
        return state;
    }

    /// <summary>
    /// Loads the weights, optimizer and tracker of the checkpoint <paramref name="path"/> names, after checking that it
    /// was written by a run with the same settings (thread count, device and checkpoint options may differ) and as many
    /// training images.
    /// </summary>
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
        network.load(Path.Combine(folder, ModelFile));
        optimizer.load_state_dict(Path.Combine(folder, OptimizerFile));
        string trackerPath = Path.Combine(folder, TrackerFile);
        if (tracker is not null && File.Exists(trackerPath))
        {
            using var reader = new BinaryReader(File.OpenRead(trackerPath));
            tracker.Load(reader, network);
        }
        return state;
    }

    // The settings that shape the run, as JSON properties; those that only say where or how fast it runs are left out.
    private static List<string> Differences(TrainingSettings saved, TrainingSettings now)
    {
        static JsonObject Shape(TrainingSettings s) => JsonSerializer.SerializeToNode(s with
        {
            Threads = 0, Device = TrainingDevice.Auto, EvaluationBatchSize = null,
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
