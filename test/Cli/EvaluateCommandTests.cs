using System.Text.RegularExpressions;
using Microsoft.ML.CompactTransformer.Cli;
using Microsoft.ML.CompactTransformer.Cli.Commands;
using Microsoft.ML.CompactTransformer.Tests.Data;
using Microsoft.ML.CompactTransformer.Tests.Support;

namespace Microsoft.ML.CompactTransformer.Tests.Cli;

/// <summary>A Fashion-MNIST model imported once from the cct_2_3x2_28_c1 fixture, with the ten class names.</summary>
public sealed class FashionMnistModel : IDisposable
{
    private readonly TempFolder folder = new();

    public FashionMnistModel()
    {
        Path = folder.File("fashion.zip");
        var result = CliRunner.Run("import", "--checkpoint", ReferenceFixture.PathOf("cct_2_3x2_28_c1.pt"), "--architecture", "cct_2_3x2_32",
            "--classes", "10", "--image-size", "28", "--channels", "1", "--pixel-scale", "0.00392156862745098",
            "--class-names", string.Join(",", FashionMnist20.FolderClassOrder), "--output", Path);
        Assert.True(result.ExitCode == 0, result.Error);
    }

    public string Path { get; }

    public void Dispose() => folder.Dispose();
}

public sealed class EvaluateCommandTests(FashionMnistModel model) : IClassFixture<FashionMnistModel>, IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>A copy of the 20-image fixture tree (class folders with PNGs) to add to or change.</summary>
    private string CopyTree()
    {
        string root = temp.File("images");
        string source = Path.Combine(FashionMnist20.Root, "train");
        foreach (var file in Directory.GetFiles(source, "*.png", SearchOption.AllDirectories))
        {
            string target = Path.Combine(root, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return root;
    }

    [Fact]
    public void Evaluate_prints_metrics_and_a_confusion_table_with_the_right_totals()
    {
        string root = CopyTree();
        var result = CliRunner.Run("evaluate", "--model", model.Path, "--data", root);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("", result.Error);
        Assert.Contains("20 images of 1x28x28, 10 classes", result.Output);
        Assert.Matches(@"micro accuracy\s+[01]\.\d{4}", result.Output);
        Assert.Matches(@"macro accuracy\s+[01]\.\d{4}", result.Output);
        Assert.Matches(@"log-loss\s+\d+\.\d{4}", result.Output);
        Assert.Contains("Confusion table", result.Output);

        // Each truth row of the printed table sums to the number of images of that class.
        var expected = FashionMnist20.FolderClassOrder.ToDictionary(n => n, n => FashionMnist20.Rows.Count(r => r.Path.Contains($"/{n}/")));
        Assert.Equal(20, expected.Values.Sum());
        foreach (var (name, index) in FashionMnist20.FolderClassOrder.Select((n, i) => (n, i)))
        {
            var line = result.Output.Split('\n').Single(l => Regex.IsMatch(l, $@"^{index}\.\s+{Regex.Escape(name)} \|\|"));
            var counts = line.Split("||")[1].Split('|').SkipLast(1).Select(c => int.Parse(c.Trim())).ToArray();
            Assert.Equal(10, counts.Length);
            Assert.Equal(expected[name], counts.Sum());
        }
    }

    [Fact]
    public void Metrics_come_from_ML_NET_with_the_model_class_order()
    {
        var r = EvaluateCommand.Evaluate(new EvaluateArguments { Model = model.Path, Data = CopyTree() });

        Assert.Equal(FashionMnist20.FolderClassOrder, r.ClassNames);
        Assert.Equal(20, r.Images);
        Assert.Equal((1, 28, 28), r.Shape);
        var counts = r.Metrics.ConfusionMatrix.Counts;
        Assert.Equal(10, counts.Count);
        Assert.Equal(20, counts.Sum(row => row.Sum()));
        for (int k = 0; k < 10; k++)
        {
            Assert.Equal(FashionMnist20.Rows.Count(row => row.Label == k), counts[k].Sum());
        }
        double correct = Enumerable.Range(0, 10).Sum(k => counts[k][k]);
        Assert.Equal(correct / 20, r.Metrics.MicroAccuracy, 1e-12);
        Assert.True(double.IsFinite(r.Metrics.LogLoss) && r.Metrics.LogLoss > 0);
    }

    [Fact]
    public void An_unknown_class_folder_is_a_usage_error_naming_it()
    {
        string root = CopyTree();
        Directory.CreateDirectory(Path.Combine(root, "Hat"));
        File.Copy(Directory.GetFiles(Path.Combine(root, "Coat"))[0], Path.Combine(root, "Hat", "x.png"));

        CliRunner.AssertUsageError(CliRunner.Run("evaluate", "--model", model.Path, "--data", root), "Hat", "not classes of the model");
    }

    [Fact]
    public void Missing_or_unreadable_model_missing_folder_and_wrong_image_size_are_usage_errors()
    {
        string root = CopyTree();
        CliRunner.AssertUsageError(CliRunner.Run("evaluate", "--model", temp.File("none.zip"), "--data", root), "none.zip");
        CliRunner.AssertUsageError(CliRunner.Run("evaluate", "--model", model.Path, "--data", temp.File("nowhere")), "nowhere");
        File.WriteAllText(temp.File("junk.zip"), "not a zip");
        CliRunner.AssertUsageError(CliRunner.Run("evaluate", "--model", temp.File("junk.zip"), "--data", root), "junk.zip", "is not a zip file");
        CliRunner.AssertUsageError(CliRunner.Run("evaluate", "--model", model.Path, "--data", root, "--image-size", "32"), "784", "32x32");
        CliRunner.AssertUsageError(CliRunner.Run("evaluate", "--model", model.Path, "--data", root, "--channels", "3"), "784", "3 channel");
    }

    [Fact]
    public void Explicit_image_size_and_channels_that_fit_are_accepted()
    {
        var result = CliRunner.Run("evaluate", "--model", model.Path, "--data", CopyTree(), "--image-size", "28", "--channels", "1");

        Assert.True(result.ExitCode == 0, result.Error);
    }

    [Theory]
    [InlineData(784, null, null, 1, 28)]
    [InlineData(3072, null, null, 3, 32)]
    [InlineData(1024, null, null, 1, 32)]
    [InlineData(3072, 32, null, 3, 32)]
    [InlineData(3072, null, 3, 3, 32)]
    [InlineData(150528, 224, 3, 3, 224)]
    public void Image_shape_is_inferred_from_the_vector_size(int size, int? imageSize, int? channels, int c, int side)
    {
        Assert.Equal((c, side, side), EvaluateCommand.ImageShape(size, imageSize, channels));
    }

    [Theory]
    [InlineData(784, null, 3)]
    [InlineData(784, 32, null)]
    [InlineData(1000, null, null)]
    [InlineData(3072, null, 2)]
    public void Image_shapes_that_do_not_fit_are_refused(int size, int? imageSize, int? channels)
    {
        Assert.Throws<CommandLineException>(() => EvaluateCommand.ImageShape(size, imageSize, channels));
    }
}
