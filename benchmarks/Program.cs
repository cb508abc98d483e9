using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Benchmarks;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using Microsoft.ML.CompactTransformer.Training;
using static Benchmarks.ResultTable;

// dotnet run --project benchmarks -c Release -- [--quick] [--output file.md] [--image-folder DIR] [--only LIST]
// Prints one Markdown report (machine, date, command, table) on stdout; progress goes to stderr.
bool quick = args.Contains("--quick");
int outputAt = Array.IndexOf(args, "--output");
string? output = outputAt >= 0 && outputAt + 1 < args.Length ? args[outputAt + 1] : null;
int onlyAt = Array.IndexOf(args, "--only");
string? only = onlyAt >= 0 && onlyAt + 1 < args.Length ? args[onlyAt + 1] : null;
string[] sections = ["training", "choices", "memory", "inference", "data"];
bool Runs(string section) => only is null || only.Split(',').Contains(section);
int folderAt = Array.IndexOf(args, "--image-folder");
string? imageFolder = folderAt >= 0 && folderAt + 1 < args.Length ? args[folderAt + 1] : null;
if (args.Except(["--quick", "--output", output, "--image-folder", imageFolder, "--only", only]).Any() || (folderAt >= 0 && !Directory.Exists(imageFolder))
    || (only is not null && only.Split(',').Except(sections).Any()))
{
    Console.Error.WriteLine("usage: dotnet run --project benchmarks -c Release -- [--quick] [--output file.md] [--image-folder DIR] [--only LIST]");
    Console.Error.WriteLine($"  --only LIST: comma-separated sections out of {string.Join(",", sections)} (default: all).");
    Console.Error.WriteLine("  --image-folder DIR: also decode an existing class-folder tree (e.g. CIFAR-10's 60,000 JPEGs), parallel and serial.");
    return 2;
}
var settings = BenchmarkSettings.For(quick);
// First, so that the trainer's module initializer sets OMP_WAIT_POLICY before libtorch loads (the matmul below loads it).
TorchRuntime.EnsureInitialized();
string loadBefore = LoadAverage();
var table = new ResultTable();
var total = Stopwatch.StartNew();
void Progress(string what) => Console.Error.WriteLine($"[{total.Elapsed:mm\\:ss}] {what}");

// Memory first, while the process is fresh: CCT-7's training steps below leave the allocator holding gigabytes, which
// would hide a small Fit's own footprint (the growth figures are what matter, but the absolute ones should be readable).
MemoryBenchmark.Result? memory = null;
if (Runs("memory"))
{
    Progress("memory");
    memory = MemoryBenchmark.Run(settings.MemoryEpochs, settings.MemoryImages);
}

if (Runs("training"))
{
    // 1. Training: (a) matmul ceiling, (b) raw step, (c) end-to-end Fit.
    Progress("matmul");
    var (matmul, matmulBest) = MatmulBenchmark.GflopsPerSecond(settings.MatmulSize, settings.MatmulRepeats);
    table.Add("1a matmul", $"fp32 torch.mm {settings.MatmulSize}^3, {TorchSharp.torch.get_num_threads()} threads (median; best)",
        $"{F(matmul)} GFLOP/s ({F(matmulBest)})");

    foreach (var (name, warmup, steps, fitSteps, fitEpochs) in new[]
    {
        ("cct_2_3x2_32", settings.SmallWarmupSteps, settings.SmallSteps, settings.SmallFitStepsPerEpoch, settings.SmallFitEpochs),
        ("cct_7_3x1_32", settings.LargeWarmupSteps, settings.LargeSteps, settings.LargeFitStepsPerEpoch, settings.LargeFitEpochs),
    })
    {
        var arch = CctPresets.Get(name);
        double flopsPerImage = ModelFlops.TrainingPerImage(arch);
        // Raw steps and Fit take turns, round after round: a ratio is only taken between neighbours, so a change of load
        // between rounds moves both of its sides.
        var stepResults = new List<TrainStepBenchmark.Result>();
        var fitResults = new List<FitBenchmark.Result>();
        for (int round = 1; round <= settings.Rounds; round++)
        {
            Progress($"raw train step {name}, round {round}");
            stepResults.Add(TrainStepBenchmark.Run(arch, settings.BatchSize, warmup, steps, settings.MatmulSize));
            Progress($"Fit {name}, round {round}");
            fitResults.Add(FitBenchmark.Run(name, settings.BatchSize, fitSteps, fitEpochs));
        }
        double ImagesPerSecond(TrainStepBenchmark.Result r) => settings.BatchSize / r.SecondsPerStep;
        double Achieved(TrainStepBenchmark.Result r) => ImagesPerSecond(r) * flopsPerImage / 1e9;
        var ofMatmul = stepResults.Select(r => Achieved(r) / r.InterleavedMatmulGflops).ToArray();
        var ofMatmulCpu = stepResults.Select(r => settings.BatchSize * flopsPerImage / 1e9 / r.CpuSecondsPerStep / r.MatmulGflopsPerCpuSecond).ToArray();
        var fitOfRaw = fitResults.Zip(stepResults, (f, r) => f.ImagesPerSecond / ImagesPerSecond(r)).ToArray();
        string PerRound<T>(IEnumerable<T> values, Func<T, string> format) => string.Join(" / ", values.Select(format));
        string rounds = settings.Rounds == 1 ? "" : $"; {settings.Rounds} rounds, median ratio (per round)";

        table.Add($"1b raw step {name}", $"fwd+CE+bwd+AdamW, batch {settings.BatchSize}, {steps} steps per round (median)",
            PerRound(stepResults, r => $"{F(r.SecondsPerStep * 1000, 0)} ms ({F(ImagesPerSecond(r))} img/s)"));
        double stepRatio = Timings.Median(ofMatmul);
        table.Add($"1b raw step {name}", $"achieved rate ({F(flopsPerImage / 1e9, 3)} GFLOP/img train) / best of 3 matmuls after every step{rounds}",
            $"{PerRound(stepResults, r => $"{F(Achieved(r))} / {F(r.InterleavedMatmulGflops)}")} GFLOP/s = {Percent(stepRatio)} ({PerRound(ofMatmul, Percent)})",
            ">= 70%", stepRatio >= 0.70);
        table.Add($"1b raw step {name}", "the same in CPU time (all threads): GFLOP per CPU-second, step / matmul (not the target; load-insensitive)",
            $"{Percent(Timings.Median(ofMatmulCpu))} ({PerRound(ofMatmulCpu, Percent)}); threads busy per step {PerRound(stepResults, r => F(r.CpuSecondsPerStep / r.SecondsPerStep, 2))}");

        table.Add($"1c Fit {name}", $"IDataView -> crop+flip -> AdamW, {fitSteps} steps x {fitEpochs - 1} epoch{(fitEpochs == 2 ? "" : "s")} after 1 warmup (history img/s)",
            PerRound(fitResults, f => $"{F(f.ImagesPerSecond)} img/s (Fit {F(f.FitSeconds)} s)"));
        double fitRatio = Timings.Median(fitOfRaw);
        table.Add($"1c Fit {name}", $"Fit / raw step{rounds}", $"{Percent(fitRatio)} ({PerRound(fitOfRaw, Percent)})", ">= 90%", fitRatio >= 0.90);
    }
}

// A section-2 measurement: the train step with a choice on and off, side by side, as one table row in wall and CPU
// time. With several rounds the two sides take turns (on-off, then off-on, ...) and the ratio is the median of the
// rounds' own ratios: a change of load then moves both sides of a round, where one on/off pair could swing +-10%.
void AddOnOff(string area, string measurement, CctArchitecture arch, int batch, int warmup, int steps, int rounds, Action<bool> set)
{
    var on = new List<TrainStepBenchmark.Result>();
    var off = new List<TrainStepBenchmark.Result>();
    try
    {
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool choice in round % 2 == 0 ? new[] { true, false } : new[] { false, true })
            {
                set(choice);
                (choice ? on : off).Add(TrainStepBenchmark.Run(arch, batch, warmup, steps));
            }
        }
    }
    finally
    {
        set(true);
    }
    string Side(Func<TrainStepBenchmark.Result, double> seconds, string unit)
    {
        double onMedian = Timings.Median(on.Select(seconds).ToList()), offMedian = Timings.Median(off.Select(seconds).ToList());
        var ratios = on.Zip(off, (a, b) => seconds(b) / seconds(a)).ToList();
        string spread = rounds > 1 ? $", rounds {F(ratios.Min(), 2)}-{F(ratios.Max(), 2)}" : "";
        return $"{F(onMedian * 1000, 0)} / {F(offMedian * 1000, 0)} {unit} (off {F(Timings.Median(ratios), 2)}x{spread})";
    }
    table.Add(area, measurement, $"{Side(r => r.SecondsPerStep, "ms")}; {Side(r => r.CpuSecondsPerStep, "CPU-ms")}");
}

if (Runs("choices"))
{
    // 2. What each CPU choice buys: the train step with the choice on and off, side by side (the "on" numbers are
    // re-measured here, next to the "off" ones), in wall and CPU time.
    var switches = new (string Name, Action<bool> Set)[]
    {
        ("oneDNN convolutions", on => TorchRuntime.OneDnnConvolutions = on),
        ("channels-last tokenizer", on => Tokenizer.ChannelsLastOnCpu = on),
        ("reuse of freed memory", on => TorchRuntime.ReuseFreedMemory = on),
        ("half-batches on two threads", on => TorchRuntime.HalfBatchesOnCpu = on),
        ("vectorised dropout masks", on => StepRandomness.VectorisedMasks = on),
        ("fused max-pool and ReLU", on => Tokenizer.FusedPoolingOnCpu = on),
        ("fused attention with dropout", on => SelfAttention.FusedDroppedAttentionOnCpu = on),
        ("own convolution weight gradient", on => Tokenizer.OwnWeightGradientOnCpu = on),
    };
    foreach (var (name, warmup, steps, rounds) in new[]
    {
        ("cct_2_3x2_32", settings.SmallWarmupSteps, settings.OneDnnSmallSteps, settings.Rounds),
        // One round: a CCT-7 step takes seconds.
        ("cct_7_3x1_32", settings.LargeWarmupSteps, settings.OneDnnLargeSteps, 1),
    })
    {
        var arch = CctPresets.Get(name);
        foreach (var (choice, set) in switches)
        {
            Progress($"{choice} on/off {name}");
            AddOnOff($"2 {choice} {name}", $"train step, on / off ({steps} steps each{(rounds > 1 ? $", {rounds} rounds in turn, medians" : "")}): wall; CPU",
                arch, settings.BatchSize, warmup, steps, rounds, set);
        }
    }

    // Pieces matter where a half-batch's largest activation passes a per-thread glibc heap (64 MB): cct_7 at batch 128,
    // the recipe's batch (its first convolution's output is then 64 MiB per half). At the suite's batch 64 there is one
    // piece.
    const int recipeBatch = 128;
    long limit = HalfBatchStep.PieceBytes;
    Progress($"pieces on/off cct_7_3x1_32 batch {recipeBatch}");
    AddOnOff("2 half-batches in pieces under 64 MB cct_7_3x1_32",
        $"train step at batch {recipeBatch}, on / off ({settings.OneDnnLargeSteps} steps each): wall; CPU",
        CctPresets.Get("cct_7_3x1_32"), recipeBatch, settings.LargeWarmupSteps, settings.OneDnnLargeSteps, 1,
        on => HalfBatchStep.PieceBytes = on ? limit : long.MaxValue);
}

if (memory is not null)
{
    // 3. Memory (measured first, above).
    double Mb(long bytes) => bytes / 1048576.0;
    var peaks = memory.EpochPeaks;
    double endpoints = (double)(peaks[^1] - peaks[1]) / peaks[1];
    double epochGrowth = MemoryBenchmark.FittedGrowth(peaks, from: 1);
    table.Add("3 memory", $"peak RSS per epoch, cct_2 Fit of {settings.MemoryImages} + 128 validation images, {peaks.Count} epochs (MB)",
        string.Join(", ", peaks.Select(p => F(Mb(p), 0))));
    table.Add("3 memory", "growth from epoch 2 to the last along the peaks' least-squares line (epoch 2 vs the last alone)",
        $"{Percent(epochGrowth)} ({Percent(endpoints)})", "< 5% (flat)", epochGrowth < 0.05);
    double fitGrowth = (double)(memory.SecondFit.Peak - memory.FirstFit.Peak) / memory.FirstFit.Peak;
    table.Add("3 memory", "two 3-epoch Fit calls in one process: peak RSS (MB; after GC)",
        $"{F(Mb(memory.FirstFit.Peak), 0)} ({F(Mb(memory.FirstFit.After), 0)}) -> {F(Mb(memory.SecondFit.Peak), 0)} ({F(Mb(memory.SecondFit.After), 0)})");
    table.Add("3 memory", "growth of the second Fit's peak", Percent(fitGrowth), "< 5% (flat)", fitGrowth < 0.05);
}

if (Runs("inference"))
{
    // 4. Inference, on the small model.
    Progress("inference");
    using (var inference = new InferenceBenchmark("cct_2_3x2_32"))
    {
        int rows = settings.InferenceRows;
        double mlnet1 = inference.MlNetRowsPerSecond(rows, 1);
        double ort1 = inference.OrtRowsPerSecond(rows, 1);
        double mlnet2 = inference.MlNetRowsPerSecond(rows, 2);
        double ort2 = inference.OrtRowsPerSecond(rows, 2);
        double ortBatch1 = inference.OrtRowsPerSecond(rows, 1, batchAxis: true, batchSize: 64);
        double ortBatch2 = inference.OrtRowsPerSecond(rows, 2, batchAxis: true, batchSize: 64);
        table.Add("4 inference cct_2", $"ML.NET Transform, {rows:N0} rows, Score read, IntraOp 1 (the model's setting)", $"{F(mlnet1, 0)} rows/s");
        table.Add("4 inference cct_2", "raw ORT, batch 1, IntraOp 1, same ONNX bytes", $"{F(ort1, 0)} rows/s");
        table.Add("4 inference cct_2", "ML.NET / raw ORT (IntraOp 1)", Percent(mlnet1 / ort1), ">= 80%", mlnet1 / ort1 >= 0.80);
        table.Add("4 inference cct_2", "IntraOp 2: ML.NET; raw ORT batch 1", $"{F(mlnet2, 0)}; {F(ort2, 0)} rows/s (IntraOp 1 / 2 = {F(ort1 / ort2, 2)}x)");
        table.Add("4 inference cct_2", "reference: raw ORT, batch-axis export, batch 64, IntraOp 1; 2",
            $"{F(ortBatch1, 0)}; {F(ortBatch2, 0)} rows/s ({F(Math.Max(ortBatch1, ortBatch2) / mlnet1, 1)}x ML.NET)");
        var (p50, p99) = inference.PredictionEngineLatency(settings.LatencySamples);
        table.Add("4 inference cct_2", $"PredictionEngine latency, {settings.LatencySamples} calls", $"p50 {F(p50, 2)} ms, p99 {F(p99, 2)} ms");
    }
}

if (Runs("data"))
{
    // 5. Data.
    Progress("data");
    var (decode, decodeSerial) = DataBenchmark.FolderImagesPerSecond(settings.PngCount);
    table.Add("5 data", $"ImageFolderDatasetReader, {settings.PngCount:N0} random 32x32 PNGs (page-cached): parallel; one decoder",
        $"{F(decode, 0)}; {F(decodeSerial, 0)} img/s ({F(decode / decodeSerial, 2)}x on {Environment.ProcessorCount} cores)");
    if (imageFolder is not null)
    {
        Progress($"decoding {imageFolder}");
        var (count, folderParallel, folderSerial) = DataBenchmark.ReadTree(imageFolder);
        table.Add("5 data", $"ImageFolderDatasetReader, {count:N0} files of {imageFolder} (page-cached): parallel; one decoder",
            $"{F(folderParallel, 0)}; {F(folderSerial, 0)} img/s ({F(folderParallel / folderSerial, 2)}x)");
    }
    var (trainCursors, validationCursors) = DataBenchmark.CursorsPerFit();
    table.Add("5 data", "cursors opened by a 2-epoch Fit(train, validation)", $"train {trainCursors}, validation {validationCursors}",
        "1 each", trainCursors == 1 && validationCursors == 1);
}

var report = new StringBuilder();
report.AppendLine($"- machine: {CpuModel()}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
report.AppendLine($"- date: {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC; load average before / after: {loadBefore} / {LoadAverage()}; ran {total.Elapsed.TotalMinutes:F1} min");
report.AppendLine($"- command: `dotnet run --project benchmarks -c Release --{(args.Length > 0 ? " " + string.Join(" ", args) : "")}`");
report.AppendLine();
report.Append(table.ToMarkdown());
Console.Write(report);
if (output is not null)
    File.WriteAllText(output, report.ToString());
return 0;

// Another process's load depresses every absolute number here; the report says how much load there was.
static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

static string CpuModel() =>
    File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU"
        : RuntimeInformation.ProcessArchitecture.ToString();
