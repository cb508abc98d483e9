using System.Globalization;
using Microsoft.ML.CompactTransformer.Data;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>
/// Reads the images named by <see cref="DataArguments"/> for every training command: an image tree (<c>--data</c>) or
/// IDX files (<c>--idx</c>), their test split as validation, or a seeded hold-out when a fraction is given.
/// </summary>
internal static class DatasetLoader
{
    private static readonly string[] IdxSuffixes = ["", ".gz"];

    /// <summary>Loads the data; a mistake in the arguments or the files is a <see cref="CommandLineException"/> (or an I/O exception).</summary>
    /// <param name="a">The data arguments.</param>
    /// <param name="seed">Seed of the validation hold-out.</param>
    public static TrainingData Load(DataArguments a, int seed)
    {
        if (a.Data is null == (a.Idx is null))
            throw new CommandLineException(a.Data is null
                ? "No training data: give --data DIR (a folder-per-class image tree) or --idx DIR (MNIST-style IDX files)."
                : "Give either --data or --idx, not both.");
        if (a.ValidationFraction is { } f && !(f > 0 && f < 1))
            throw new CommandLineException($"--validation-fraction must be between 0 and 1, exclusive (got {Format(f)}).");
        if (a.Channels is { } c && c is not (1 or 3))
            throw new CommandLineException($"--channels must be 1 or 3 (got {c}).");
        if (a.ImageSize is < 1)
            throw new CommandLineException($"--image-size must be at least 1 (got {a.ImageSize}).");
        if (a.Classes is < 1)
            throw new CommandLineException($"--classes must be at least 1 (got {a.Classes}).");

        var (train, test, source) = a.Data is { } data ? ReadTree(data, a) : ReadIdx(a.Idx!, a);
        if (a.Classes is { } classes && classes != train.ClassCount)
            throw new CommandLineException($"--classes {classes} does not match the data, which has {train.ClassCount} classes ({string.Join(", ", train.ClassNames)}).");

        ImageDataset? validation = test;
        string held = source;
        if (a.ValidationFraction is { } fraction)
        {
            (train, validation) = Split(train, fraction, seed);
            held = $"{Format(fraction * 100)}% of {source} held out with seed {seed}";
        }
        if (train.Count == 0)
            throw new CommandLineException($"No training images left in {source}.");
        string validationText = validation is null ? "no validation images" : $"{validation.Count} validation images";
        return new TrainingData(train, validation,
            $"{train.Count} training and {validationText} of {train.Channels}x{train.Height}x{train.Width}, {train.ClassCount} classes ({held})");
    }

    private static (ImageDataset Train, ImageDataset? Test, string Source) ReadTree(string root, DataArguments a)
    {
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Data folder '{root}' does not exist.");
        string trainRoot = Path.Combine(root, "train"), testRoot = Path.Combine(root, "test");
        bool split = Directory.Exists(trainRoot);
        int channels = a.Channels ?? 3;
        var train = ImageFolderDatasetReader.Read(split ? trainRoot : root, channels, a.ImageSize, a.ImageSize);
        // The test split is read in the training classes' order, so that label k means the same class in both.
        ImageDataset? test = null;
        if (split && a.ValidationFraction is null && Directory.Exists(testRoot))
        {
            var unknown = Directory.GetDirectories(testRoot).Select(d => Path.GetFileName(d)!).Except(train.ClassNames, StringComparer.Ordinal)
                .Order(StringComparer.Ordinal).ToArray();
            if (unknown.Length > 0)
                throw new CommandLineException($"'{testRoot}' has class folders that '{trainRoot}' lacks: {string.Join(", ", unknown)}.");
            test = ImageFolderDatasetReader.Read(testRoot, channels, train.Height, train.Width, train.ClassNames);
        }
        return (train, test, split ? (test is null ? $"'{trainRoot}'" : $"'{trainRoot}', validated on '{testRoot}'") : $"'{root}'");
    }

    private static (ImageDataset Train, ImageDataset? Test, string Source) ReadIdx(string folder, DataArguments a)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"IDX folder '{folder}' does not exist.");
        if (a.Channels is 3)
            throw new CommandLineException("IDX files hold grayscale images: --channels must be 1 (or left out) with --idx.");
        if (!HasSplit(folder, "train"))
            throw new FileNotFoundException($"'{folder}' has no train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz].");
        var classNames = a.Classes is { } k ? Enumerable.Range(0, k).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray() : null;
        var train = IdxDatasetReader.ReadSplit(folder, "train", classNames);
        if (a.ImageSize is { } size && (size != train.Height || size != train.Width))
            throw new CommandLineException($"--image-size {size} does not match the IDX images, which are {train.Height}x{train.Width} (IDX images are not resized).");
        ImageDataset? test = null;
        if (a.ValidationFraction is null && HasSplit(folder, "t10k"))
        {
            test = IdxDatasetReader.ReadSplit(folder, "t10k", train.ClassNames);
            if (test.Height != train.Height || test.Width != train.Width)
                throw new CommandLineException($"The t10k images are {test.Height}x{test.Width}; the train images {train.Height}x{train.Width}.");
        }
        return (train, test, test is null ? $"'{folder}' train-*" : $"'{folder}' train-*, validated on t10k-*");
    }

    private static bool HasSplit(string folder, string split) =>
        IdxSuffixes.Any(s => File.Exists(Path.Combine(folder, $"{split}-images-idx3-ubyte{s}")))
        && IdxSuffixes.Any(s => File.Exists(Path.Combine(folder, $"{split}-labels-idx1-ubyte{s}")));

    /// <summary>A seeded shuffle, then the first round(fraction * count) images (at least one, never all) for validation.</summary>
    private static (ImageDataset Train, ImageDataset Validation) Split(ImageDataset all, double fraction, int seed)
    {
        if (all.Count < 2)
            throw new CommandLineException($"--validation-fraction needs at least 2 images; the data has {all.Count}.");
        var order = Enumerable.Range(0, all.Count).ToArray();
        new Random(seed).Shuffle(order);
        int held = Math.Clamp((int)Math.Round(fraction * all.Count), 1, all.Count - 1);
        var validation = order[..held];
        var train = order[held..];
        // Keep the file order within each part: the split only decides membership.
        Array.Sort(validation);
        Array.Sort(train);
        return (all.Subset(train), all.Subset(validation));
    }

    private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
