// Checks this library on a GPU (or, for a dry run, on the CPU): the device and libtorch it runs against, parity with
// the original's fixtures, and the training step time. The GPU payload (docs/GPU.md) carries it next to the cct tool.
//   GpuCheck info        [--device cuda|cpu]
//   GpuCheck parity      --fixtures DIR [--device cuda|cpu] [--tolerance 1e-4] [--csv FILE]
//   GpuCheck step-time   [--device cuda|cpu] [--models cct_2_3x2_32,cct_7_3x1_32] [--modes fp32-loop,fp32-flat,bf16-flat]
//                        [--batch 128] [--steps N] [--csv FILE]
// Exit code 0 when every check passed, 1 when one failed, 2 for a usage error.
using GpuCheck;

try
{
    var arguments = Arguments.Parse(args);
    return arguments.Command switch
    {
        "info" => DeviceReport.Run(arguments),
        "parity" => FixtureParity.Run(arguments),
        "step-time" => StepTiming.Run(arguments),
        _ => throw new ArgumentException($"Unknown command '{arguments.Command}'; expected info, parity or step-time."),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"GpuCheck: {e.Message}");
    return 2;
}
