using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Microsoft.ML.CompactTransformer.Tests.Onnx;

/// <summary>Runs an ONNX model with ONNX Runtime directly (no ML.NET) and returns every output as a flat array.</summary>
internal static class OrtRunner
{
    public static InferenceSession Session(byte[] model) =>
        new(model, new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 });

    public static Dictionary<string, Array> Run(InferenceSession session, string inputName, float[] input, params long[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        var names = session.OutputNames.ToArray();
        using var outputs = session.Run(runOptions, new[] { inputName }, new[] { value }, names);
        var result = new Dictionary<string, Array>();
        for (int i = 0; i < names.Length; i++)
        {
            var type = outputs[i].GetTensorTypeAndShape().ElementDataType;
            result[names[i]] = type switch
            {
                TensorElementType.Float => outputs[i].GetTensorDataAsSpan<float>().ToArray(),
                TensorElementType.Int64 => outputs[i].GetTensorDataAsSpan<long>().ToArray(),
                _ => throw new NotSupportedException($"Output {names[i]} has element type {type}."),
            };
        }
        return result;
    }

    public static Dictionary<string, Array> Run(byte[] model, string inputName, float[] input, params long[] shape)
    {
        using var session = Session(model);
        return Run(session, inputName, input, shape);
    }
}
