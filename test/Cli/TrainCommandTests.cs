using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.CompactTransformer.Tests.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Cli;

[Collection(TorchGlobalStateCollection.Name)]
public sealed class TrainCommandTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Train_writes_the_model_zip_history_and_learning_curve()
    {
        string outdir = temp.File("run");
        var result = CliRunner.Run(["train", .. TrainingFixture.FastFlags(epochs: 2), "--architecture", "cct_2_3x2_32", "--output", outdir]);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("", result.Error);
        // Nothing else, in particular no temp file of the atomic writes.
        Assert.Equal(["history.csv", "history.json", "learning-curve.png", "model.zip"], Directory.GetFiles(outdir).Select(Path.GetFileName).Order());
        var (header, rows) = TrainingFixture.ReadCsv(Path.Combine(outdir, "history.csv"));
        foreach (var column in TrainingFixture.HistoryColumns)
            Assert.Contains(column, header);
        Assert.Equal(2, rows.Length);
        Assert.Equal(["1", "2"], rows.Select(r => r[Array.IndexOf(header, "epoch")]));
        foreach (var column in new[] { "train_accuracy", "val_accuracy", "val_top5" })
            Assert.All(rows, r => Assert.InRange(double.Parse(r[Array.IndexOf(header, column)], System.Globalization.CultureInfo.InvariantCulture), 0, 1));
        Assert.Equal(2, TrainingHistory.LoadJson(Path.Combine(outdir, "history.json")).Epochs.Count);
        TrainingFixture.AssertPng(Path.Combine(outdir, "learning-curve.png"));
        Assert.Equal(9, TrainingFixture.ScoreSize(Path.Combine(outdir, "model.zip"))); // the fixture's 9 class folders
        Assert.Contains("15 training and 5 validation images of 1x16x16, 9 classes", result.Output);
        Assert.Contains("epoch 2/2", result.Output);

        // The model takes the 8-bit pixels it was trained on, and cct evaluate feeds them.
        var evaluation = CliRunner.Run("evaluate", "--model", Path.Combine(outdir, "model.zip"), "--data", TrainingFixture.Tree);
        Assert.True(evaluation.ExitCode == 0, evaluation.Error);
        Assert.Contains("20 images of 1x16x16, 9 classes", evaluation.Output);
    }

    [Fact]
    public void Resume_from_the_output_folder_continues_an_interrupted_run_exactly()
    {
        string outdir = temp.File("run");
        string[] flags = [.. TrainingFixture.FastFlags(epochs: 3), "--checkpoint-every", "1", "--output", outdir];
        Assert.Equal(0, CliRunner.Run(["train", .. flags]).ExitCode);
        var uninterrupted = TrainingHistory.LoadCsv(Path.Combine(outdir, "history.csv")).Epochs;
        Assert.Equal(["epoch-0001", "epoch-0002", "epoch-0003"], Directory.GetDirectories(Path.Combine(outdir, "checkpoints")).Select(Path.GetFileName).Order());

        // As if the run had been stopped during epoch 3.
        Directory.Delete(Path.Combine(outdir, "checkpoints", "epoch-0003"), recursive: true);
        File.Delete(Path.Combine(outdir, "history.csv"));
        var resumed = CliRunner.Run(["train", .. flags, "--resume", outdir]);

        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("epochs 3..3", resumed.Output);
        Assert.DoesNotContain("epoch 1/3", resumed.Output); // epochs 1 and 2 were not trained again
        var epochs = TrainingHistory.LoadCsv(Path.Combine(outdir, "history.csv")).Epochs;
        Assert.Equal([1, 2, 3], epochs.Select(e => e.Epoch));
        // Same seed and threads: the resumed epoch is the uninterrupted one, bit for bit.
        Assert.Equal(uninterrupted[2].TrainLoss, epochs[2].TrainLoss);
        Assert.Equal(uninterrupted[2].ValidationLoss, epochs[2].ValidationLoss);

        // Other settings would not continue that run: refused, naming the difference.
        var other = CliRunner.Run(["train", .. TrainingFixture.FastFlags(epochs: 4), "--resume", outdir, "--output", temp.File("other")]);
        CliRunner.AssertUsageError(other, "Epochs was 3, now 4");
    }

    [Fact]
    public void Idx_files_train_with_their_t10k_split_as_validation()
    {
        string idx = temp.File("idx");
        Directory.CreateDirectory(idx);
        TrainingFixture.WriteIdx(idx, "train", count: 12, classes: 3, gzip: true, seed: 1);
        TrainingFixture.WriteIdx(idx, "t10k", count: 4, classes: 3, gzip: false, seed: 2);
        string outdir = temp.File("run");

        var result = CliRunner.Run("train", "--idx", idx, "--classes", "4", "--epochs", "1", "--batch-size", "4", "--threads", "1", "--no-flip",
            "--crop-padding", "0", "--mean", "0.5", "--std", "0.25", "--output", outdir);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("12 training and 4 validation images of 1x8x8, 4 classes", result.Output);
        Assert.Contains("validated on t10k", result.Output);
        var epochs = TrainingHistory.LoadCsv(Path.Combine(outdir, "history.csv")).Epochs;
        Assert.Single(epochs);
        Assert.NotNull(epochs[0].ValidationTop1);
        Assert.Equal(4, TrainingFixture.ScoreSize(Path.Combine(outdir, "model.zip")));
    }

    [Fact]
    public void A_train_and_test_tree_validates_on_test()
    {
        string root = temp.File("tree");
        foreach (var file in Directory.GetFiles(TrainingFixture.Tree, "*.png", SearchOption.AllDirectories))
        {
            string cls = Path.GetFileName(Path.GetDirectoryName(file)!);
            // Every class trains; the Sandal images validate.
            string split = cls == "Sandal" && !Directory.Exists(Path.Combine(root, "test", cls)) ? "test" : "train";
            Directory.CreateDirectory(Path.Combine(root, split, cls));
            File.Copy(file, Path.Combine(root, split, cls, Path.GetFileName(file)));
        }
        string outdir = temp.File("run");

        var result = CliRunner.Run("train", "--data", root, "--channels", "1", "--image-size", "16", "--epochs", "1", "--batch-size", "8",
            "--threads", "1", "--output", outdir);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("19 training and 1 validation images", result.Output);
        Assert.NotNull(TrainingHistory.LoadCsv(Path.Combine(outdir, "history.csv")).Epochs[0].ValidationTop1);
    }

    public static TheoryData<string[], string[]> UsageErrors => new()
    {
        { ["--epochs", "1"], ["--data", "--idx"] },
        { ["--data", "x", "--idx", "y"], ["either --data or --idx"] },
        { ["--data", "no-such-folder"], ["no-such-folder"] },
        { ["--data", "{tree}", "--recipe", "cifar-huge"], ["--recipe", "cifar-huge", "cifar-legacy"] },
        { ["--data", "{tree}", "--architecture", "cct_9_9x9_32"], ["cct_9_9x9_32"] },
        { ["--data", "{tree}", "--channels", "2"], ["--channels", "2"] },
        { ["--data", "{tree}", "--validation-fraction", "1.5"], ["--validation-fraction", "1.5"] },
        { ["--data", "{tree}", "--epochs", "0"], ["--epochs", "0"] },
        { ["--data", "{tree}", "--lr", "-1"], ["--lr", "-1"] },
        { ["--data", "{tree}", "--channels", "1", "--mean", "0.1,0.2"], ["--mean", "2 values", "1 channel"] },
        { ["--data", "{tree}", "--std", "0"], ["--std", "positive"] },
        { ["--data", "{tree}", "--device", "gpu"], ["'gpu'", "--device", "auto, cpu, cuda"] },
        { ["--data", "{tree}", "--precision", "fp16"], ["'fp16'", "--precision", "fp32, bf16"] },
        { ["--data", "{tree}", "--alpha", "0.5"], ["--alpha 0.5", "standard"] },
        { ["--data", "{tree}", "--resume", "no-such-run"], ["--resume", "no-such-run"] },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void Usage_errors_exit_with_2_and_one_line_naming_the_problem(string[] arguments, string[] mentions)
    {
        string outdir = temp.File("run");
        var args = arguments.Select(a => a == "{tree}" ? TrainingFixture.Tree : a).ToArray();

        var result = CliRunner.Run(["train", .. args, "--output", outdir]);

        CliRunner.AssertUsageError(result, mentions);
        Assert.False(Directory.Exists(outdir), "a refused command created its output folder");
    }

    [Fact]
    public void Device_cuda_without_cuda_fails_at_once_naming_the_option_and_auto_says_it_fell_back()
    {
        Native.TorchRuntime.EnsureInitialized();
        if (TorchSharp.torch.cuda.is_available())
            return; // a CUDA machine has nothing to refuse
        string outdir = temp.File("run");
        var refused = CliRunner.Run(["train", "--data", "no-such-folder", "--device", "cuda", "--output", outdir]);
        // The device is checked before the data: the missing folder is not what it complains about.
        CliRunner.AssertUsageError(refused, "--device asks for Cuda", "CUDA is not available", "Set --device to Auto");

        var auto = CliRunner.Run(["train", .. TrainingFixture.FastFlags(epochs: 1), "--device", "auto", "--precision", "fp32", "--output", outdir]);
        Assert.True(auto.ExitCode == 0, auto.Error);
        Assert.Contains("device cpu (auto: CUDA is not available)", auto.Output);
    }

    [Fact]
    public void Help_lists_the_data_recipe_and_checkpoint_options()
    {
        var result = CliRunner.Run("train", "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var option in new[] { "--data", "--idx", "--validation-fraction", "--architecture", "--recipe", "--epochs", "--batch-size", "--lr",
                     "--weight-decay", "--label-smoothing", "--warmup-epochs", "--warmup-start-lr", "--min-lr", "--crop-padding", "--no-flip",
                     "--mean", "--std", "--seed", "--threads", "--device", "--precision", "--attention", "--alpha", "--beta", "--scope",
                     "--checkpoint-every", "--resume", "--output" })
            Assert.Contains(option, result.Output);
    }
}
