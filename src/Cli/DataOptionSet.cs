using System.CommandLine;
using Microsoft.ML.CompactTransformer.Cli.Commands;

namespace Microsoft.ML.CompactTransformer.Cli;

/// <summary>The data options of the training commands (<c>--data</c>, <c>--idx</c>, ...), defined once and bound to <see cref="DataArguments"/>.</summary>
internal sealed class DataOptionSet
{
    private readonly Option<string?> data = new("--data")
    {
        Description = "Folder-per-class image tree: DIR/train/<class>/*.png (and DIR/test/<class>/ for validation), or DIR/<class>/ with --validation-fraction.",
        HelpName = "dir",
    };

    private readonly Option<string?> idx = new("--idx")
    {
        Description = "Folder of MNIST-style IDX files: train-images-idx3-ubyte, train-labels-idx1-ubyte (and t10k-* for validation), gzip or not.",
        HelpName = "dir",
    };

    private readonly Option<double?> validationFraction = new("--validation-fraction")
    {
        Description = "Hold out this fraction of the training images for validation (shuffled with --seed) instead of the test split.",
        HelpName = "f",
    };

    private readonly Option<int?> imageSize = new("--image-size") { Description = "Square image size; images of another size are stretched (default: the data's)." };

    private readonly Option<int?> channels = new("--channels") { Description = "1 (grayscale) or 3 (RGB) (default: 3 for image trees, 1 for IDX)." };

    private readonly Option<int?> classes = new("--classes") { Description = "Number of classes, checked against the data (for IDX: labels 0..K-1 even if some are absent)." };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(System.CommandLine.Command command)
    {
        foreach (var option in new Option[] { data, idx, validationFraction, imageSize, channels, classes })
            command.Options.Add(option);
    }

    /// <summary>The values the user gave.</summary>
    public DataArguments Bind(ParseResult parse) => new()
    {
        Data = parse.GetValue(data),
        Idx = parse.GetValue(idx),
        ValidationFraction = parse.GetValue(validationFraction),
        ImageSize = parse.GetValue(imageSize),
        Channels = parse.GetValue(channels),
        Classes = parse.GetValue(classes),
    };
}
