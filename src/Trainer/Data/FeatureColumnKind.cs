using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.CompactTransformer.Data;

/// <summary>What a feature column holds, which decides how training reads it and how the model prepares it.</summary>
internal enum FeatureColumnKind
{
    /// <summary>Known-size <c>Vector&lt;Single&gt;</c> of C*H*W planar pixels (ExtractPixels).</summary>
    FloatPixels,

    /// <summary>Known-size <c>Vector&lt;Byte&gt;</c> of C*H*W planar pixels (ExtractPixels with outputAsFloatArray: false).</summary>
    BytePixels,

    /// <summary>An image column (LoadImages, ResizeImages).</summary>
    Image,

    /// <summary>Variable-size <c>Vector&lt;Byte&gt;</c> of encoded image bytes (LoadRawImageBytes).</summary>
    EncodedImage,
}

/// <summary>Classifies feature columns.</summary>
internal static class FeatureColumnKinds
{
    /// <summary>The kind of <paramref name="type"/>, or null when no image can be read from it.</summary>
    public static FeatureColumnKind? Of(DataViewType type) => type switch
    {
        VectorDataViewType { IsKnownSize: true } v when v.ItemType == NumberDataViewType.Single => FeatureColumnKind.FloatPixels,
        VectorDataViewType { IsKnownSize: true } v when v.ItemType == NumberDataViewType.Byte => FeatureColumnKind.BytePixels,
        ImageDataViewType => FeatureColumnKind.Image,
        VectorDataViewType { IsKnownSize: false } v when v.ItemType == NumberDataViewType.Byte => FeatureColumnKind.EncodedImage,
        _ => null,
    };

    /// <summary>The accepted column types, for error messages.</summary>
    public const string Accepted =
        "a known-size Vector<Single> of C*H*W pixels in planar CHW order (ExtractPixels), " +
        "a known-size Vector<Byte> of such pixels (ExtractPixels with outputAsFloatArray: false), " +
        "an image column (LoadImages, ResizeImages), or a variable-size Vector<Byte> of encoded image bytes (LoadRawImageBytes)";
}
