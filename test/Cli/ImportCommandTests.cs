using Microsoft.ML.CompactTransformer.Cli.Commands;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Tests.Support;

namespace Microsoft.ML.CompactTransformer.Tests.Cli;

public sealed class ImportCommandTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static string Fixture(string file) => ReferenceFixture.PathOf(file);

    private static float[] FixtureFloats(string file) => ReferenceFixture.ReadFloats(Fixture(file), 0, (int)new FileInfo(Fixture(file)).Length);

    // checkpoint, expected fixture, extra arguments
    public static TheoryData<string, string, string[]> Fixtures => new()
    {
        { "cct_2_3x2_32", "cct_2_3x2_32", ["--architecture", "cct_2_3x2_32"] },
        { "cct_7_3x1_32", "cct_7_3x1_32", ["--architecture", "cct_7_3x1_32"] },
        { "cct_2_3x2_28_c1", "cct_2_3x2_28_c1", ["--architecture", "cct_2_3x2_32", "--image-size", "28", "--channels", "1"] },
        { "cct_2_3x2_32", "cct_2_3x2_32_softmaxT_seqpool", ["--architecture", "cct_2_3x2_32", "--attention", "softmax-values", "--scope", "pooling"] },
        { "cct_2_3x2_32", "cct_2_3x2_32_softmaxT_mhsa", ["--architecture", "cct_2_3x2_32", "--attention", "softmax-values", "--scope", "self-attention"] },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Imported_zip_scores_match_the_reference_softmax(string checkpoint, string expected, string[] extra)
    {
        string zip = temp.File(expected + ".zip");
        var result = CliRunner.Run(["import", "--checkpoint", Fixture(checkpoint + ".pt"), "--classes", "10", .. extra, "--output", zip]);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("", result.Error);
        var scores = ModelZipScores.Score(zip, FixtureFloats(expected + ".input.bin"));
        ModelZipScores.AssertClose(ModelZipScores.Softmax(FixtureFloats(expected + ".logits.bin"), 10), scores, 1e-5);
        // Nothing but the zip is left in the output folder (no temp file from the write-then-rename).
        Assert.Equal([zip], Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Summary_names_architecture_tokens_parameters_classes_and_attention()
    {
        var result = CliRunner.Run("import", "--checkpoint", Fixture("cct_2_3x2_32.pt"), "--architecture", "cct_2_3x2_32", "--classes", "10",
            "--attention", "softmax-values", "--scope", "pooling", "--class-names", "a,b,c,d,e,f,g,h,i,j", "-o", temp.File("m.zip"));

        Assert.Equal(0, result.ExitCode);
        using var network = new CctNetwork(CctPresets.Get("cct_2_3x2_32"));
        long parameters = network.parameters().Sum(p => p.numel());
        Assert.Contains("cct_2_3x2_32", result.Output);
        Assert.Contains("64 (8x8)", result.Output);
        Assert.Contains(parameters.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), result.Output);
        Assert.Contains("10: a, b, c, d, e, f, g, h, i, j", result.Output);
        Assert.Contains("softmax-values (alpha 1, beta 0) in pooling", result.Output);
    }

    [Fact]
    public void Another_image_size_resizes_the_positional_embedding_and_says_so()
    {
        string zip = temp.File("m64.zip");
        var result = CliRunner.Run("import", "--checkpoint", Fixture("cct_2_3x2_32.pt"), "--architecture", "cct_2_3x2_32", "--classes", "10",
            "--image-size", "64", "-o", zip);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("256 (16x16); resized from the checkpoint: classifier.positional_emb", result.Output);
        var scores = ModelZipScores.Score(zip, new float[3 * 64 * 64]);
        Assert.Single(scores);
        Assert.Equal(1.0, scores[0].Sum(), 1e-5);
    }

    [Fact]
    public void Normalisation_is_folded_into_the_model()
    {
        // (x' * 0.5 - 0.1) / 2 = x  <=>  x' = (2x + 0.1) / 0.5: the model must see the fixture input x.
        var plain = temp.File("plain.zip");
        var normalized = temp.File("normalized.zip");
        var common = new ImportArguments { Checkpoint = Fixture("cct_2_3x2_32.pt"), Architecture = "cct_2_3x2_32", Classes = 10, Output = plain };
        Assert.Equal(0, ImportCommand.Run(common, TextWriter.Null, TextWriter.Null));
        var result = CliRunner.Run("import", "--checkpoint", Fixture("cct_2_3x2_32.pt"), "--architecture", "cct_2_3x2_32", "--classes", "10",
            "--pixel-scale", "0.5", "--mean", "0.1", "--std", "2", "--output", normalized);
        Assert.True(result.ExitCode == 0, result.Error);

        var x = FixtureFloats("cct_2_3x2_32.input.bin");
        var raw = x.Select(v => (float)((2.0 * v + 0.1) / 0.5)).ToArray();
        var expected = ModelZipScores.Score(plain, x).Select(r => r.Select(v => (double)v).ToArray()).ToArray();
        ModelZipScores.AssertClose(expected, ModelZipScores.Score(normalized, raw), 1e-5);
        ModelZipScores.AssertClose(ModelZipScores.Softmax(FixtureFloats("cct_2_3x2_32.logits.bin"), 10), ModelZipScores.Score(normalized, raw), 1e-5);
    }

    [Fact]
    public void Per_channel_mean_and_std_are_accepted()
    {
        var result = CliRunner.Run("import", "--checkpoint", Fixture("cct_2_3x2_32.pt"), "--architecture", "cct_2_3x2_32", "--classes", "10",
            "--pixel-scale", "0.00392156862745098", "--mean", "0.4914,0.4822,0.4465", "--std", "0.2470", "0.2435", "0.2616", "-o", temp.File("m.zip"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("mean=[0.4914, 0.4822, 0.4465]", result.Output);
        Assert.Contains("std=[0.247, 0.2435, 0.2616]", result.Output);
    }

    public static TheoryData<string[], string[]> UsageErrors => new()
    {
        { ["--architecture", "cct_9_9x9_32"], ["cct_9_9x9_32", "cct_7_3x1_32"] },
        { ["--checkpoint", "no-such-file.pt"], ["no-such-file.pt"] },
        { ["--architecture", "cct_7_3x1_32"], ["does not fit", "classifier.blocks.2."] },
        { ["--channels", "1"], ["does not fit", "tokenizer.conv_layers.0.0.weight"] },
        { ["--classes", "5"], ["does not fit", "classifier.fc.weight"] },
        { ["--attention", "softmax-values", "--scope", "everywhere"], ["'everywhere'", "--scope", "self-attention, pooling, both"] },
        { ["--attention", "softmax"], ["'softmax'", "--attention", "softmax-values"] },
        { ["--mean", "0.1", "0.2"], ["--mean", "2 values", "0.1 0.2", "3 channel"] },
        { ["--std", "1", "1", "1", "1"], ["--std", "4 values"] },
        { ["--std", "0"], ["--std", "positive"] },
        { ["--mean", "abc"], ["'abc'", "--mean"] },
        { ["--pixel-scale", "-1"], ["--pixel-scale", "-1"] },
        { ["--alpha", "0.5"], ["--alpha 0.5", "standard"] },
        { ["--attention", "remix", "--beta", "0.3"], ["--beta 0.3", "remix"] },
        { ["--classes", "ten"], ["'ten'", "--classes"] },
        { ["--class-names", "a,b"], ["--class-names", "2 names", "10 classes"] },
        { ["--image-size", "0"], ["--image-size", "0"] },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void Usage_errors_exit_with_2_and_one_line_naming_the_value(string[] overrides, string[] mentions)
    {
        var options = new Dictionary<string, List<string>>
        {
            ["--checkpoint"] = [Fixture("cct_2_3x2_32.pt")],
            ["--architecture"] = ["cct_2_3x2_32"],
            ["--classes"] = ["10"],
            ["--output"] = [temp.File("m.zip")],
        };
        string? current = null;
        foreach (var token in overrides)
        {
            if (token.StartsWith("--", StringComparison.Ordinal))
                options[current = token] = [];
            else
                options[current!].Add(token);
        }

        var result = CliRunner.Run(["import", .. options.SelectMany(kv => kv.Value.Prepend(kv.Key))]);

        CliRunner.AssertUsageError(result, mentions);
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void A_file_that_is_not_a_checkpoint_is_a_usage_error()
    {
        string junk = temp.File("junk.pt");
        File.WriteAllText(junk, "not a checkpoint");
        var result = CliRunner.Run("import", "--checkpoint", junk, "--architecture", "cct_2_3x2_32", "--classes", "10", "-o", temp.File("m.zip"));

        CliRunner.AssertUsageError(result, "junk.pt", "not a PyTorch state_dict");
        Assert.Equal([junk], Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void A_failed_import_leaves_an_existing_output_untouched()
    {
        string zip = temp.File("m.zip");
        File.WriteAllText(zip, "previous");
        var result = CliRunner.Run("import", "--checkpoint", Fixture("cct_2_3x2_32.pt"), "--architecture", "cct_7_3x1_32", "--classes", "10", "-o", zip);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("previous", File.ReadAllText(zip));
        Assert.Equal([zip], Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Missing_required_option_and_missing_command_are_usage_errors()
    {
        CliRunner.AssertUsageError(CliRunner.Run("import", "--architecture", "cct_2_3x2_32", "--classes", "10", "-o", temp.File("m.zip")), "--checkpoint");
        CliRunner.AssertUsageError(CliRunner.Run(), "cct --help");
        CliRunner.AssertUsageError(CliRunner.Run("train"), "train");
    }

    [Fact]
    public void Help_lists_the_options_and_exits_with_0()
    {
        var result = CliRunner.Run("import", "--help");

        Assert.Equal(0, result.ExitCode);
        foreach (var option in new[] { "--checkpoint", "--architecture", "--classes", "--image-size", "--channels", "--attention", "--alpha", "--beta",
                     "--scope", "--mean", "--std", "--pixel-scale", "--class-names", "--output", "softmax-values", "self-attention" })
            Assert.Contains(option, result.Output);
    }
}
