using System.Globalization;
using SkiaSharp;

namespace Microsoft.ML.CompactTransformer.Plotting;

/// <summary>
/// Draws line charts to PNG with SkiaSharp 2.88, the version ML.NET's ImageAnalytics already brings. (ScottPlot 5.1.59
/// needs SkiaSharp 3.119, and one process loads one SkiaSharp, so a plotting package would break image loading.)
/// Panels sit side by side; each has its own axes, grid, legend and title. Text is drawn when a font is found.
/// </summary>
internal static class ChartRenderer
{
    private const float Left = 72, Right = 18, Top = 34, Bottom = 52;

    /// <summary>Renders <paramref name="panels"/> and writes the PNG atomically.</summary>
    public static void SavePng(string path, IReadOnlyList<ChartPanel> panels, int panelWidth = 620, int height = 420)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, RenderPng(panels, panelWidth, height));
    }

    /// <summary>The PNG bytes of <paramref name="panels"/> side by side.</summary>
    public static byte[] RenderPng(IReadOnlyList<ChartPanel> panels, int panelWidth = 620, int height = 420)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0)
            throw new ArgumentException("Nothing to plot.", nameof(panels));
        using var bitmap = new SKBitmap(panelWidth * panels.Count, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            using var typeface = SKFontManager.Default.MatchFamily("DejaVu Sans") ?? SKTypeface.Default;
            var text = typeface.GlyphCount > 0 ? typeface : null;
            for (int i = 0; i < panels.Count; i++)
                DrawPanel(canvas, panels[i], new SKRect(i * panelWidth, 0, (i + 1) * panelWidth, height), text);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static void DrawPanel(SKCanvas canvas, ChartPanel panel, SKRect area, SKTypeface? typeface)
    {
        var plot = new SKRect(area.Left + Left, area.Top + Top, area.Right - Right, area.Bottom - Bottom);
        var (x0, x1) = Range(panel.Series.SelectMany(s => s.X));
        var (y0, y1) = Range(panel.Series.SelectMany(s => s.Y.Concat(s.Low ?? []).Concat(s.High ?? [])));
        var xTicks = Ticks(x0, x1, 6);
        var yTicks = Ticks(y0, y1, 6);
        (x0, x1) = (Math.Min(x0, xTicks[0]), Math.Max(x1, xTicks[^1]));
        (y0, y1) = (Math.Min(y0, yTicks[0]), Math.Max(y1, yTicks[^1]));
        float Px(double x) => (float)(plot.Left + (x - x0) / (x1 - x0) * plot.Width);
        float Py(double y) => (float)(plot.Bottom - (y - y0) / (y1 - y0) * plot.Height);

        using var grid = new SKPaint { Color = new SKColor(0xe4, 0xe4, 0xe4), StrokeWidth = 1, IsAntialias = false };
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        using var label = new SKPaint { Color = new SKColor(0x30, 0x30, 0x30), IsAntialias = true, TextSize = 12, Typeface = typeface };
        foreach (double t in xTicks)
        {
            canvas.DrawLine(Px(t), plot.Top, Px(t), plot.Bottom, grid);
            DrawText(canvas, Number(t), Px(t), plot.Bottom + 16, label, typeface, center: true);
        }
        foreach (double t in yTicks)
        {
            canvas.DrawLine(plot.Left, Py(t), plot.Right, Py(t), grid);
            DrawText(canvas, Number(t), plot.Left - 6 - label.MeasureText(Number(t)), Py(t) + 4, label, typeface);
        }
        canvas.DrawRect(plot, axis);

        canvas.Save();
        canvas.ClipRect(plot);
        foreach (var series in panel.Series.Where(s => s.Low is not null && s.High is not null))
            DrawBand(canvas, series, Px, Py);
        foreach (var series in panel.Series)
            DrawLine(canvas, series, Px, Py);
        canvas.Restore();

        using var title = new SKPaint { Color = SKColors.Black, IsAntialias = true, TextSize = 15, FakeBoldText = true, Typeface = typeface };
        DrawText(canvas, panel.Title, plot.MidX, area.Top + 22, title, typeface, center: true);
        DrawText(canvas, panel.XLabel, plot.MidX, area.Bottom - 14, label, typeface, center: true);
        if (typeface is not null)
        {
            canvas.Save();
            canvas.RotateDegrees(-90, area.Left + 16, plot.MidY);
            DrawText(canvas, panel.YLabel, area.Left + 16, plot.MidY, label, typeface, center: true);
            canvas.Restore();
        }
        DrawLegend(canvas, panel.Series, plot, label, typeface);
    }

    private static void DrawBand(SKCanvas canvas, ChartSeries s, Func<double, float> px, Func<double, float> py)
    {
        using var fill = new SKPaint { Color = s.Color.WithAlpha(0x38), Style = SKPaintStyle.Fill, IsAntialias = true };
        // One polygon per run of finite values: along the upper edge, back along the lower one.
        int i = 0;
        while (i < s.X.Length)
        {
            while (i < s.X.Length && !Finite(s.Low![i], s.High![i]))
                i++;
            int start = i;
            while (i < s.X.Length && Finite(s.Low![i], s.High![i]))
                i++;
            if (i - start < 1)
                continue;
            using var path = new SKPath();
            path.MoveTo(px(s.X[start]), py(s.High![start]));
            for (int k = start + 1; k < i; k++)
                path.LineTo(px(s.X[k]), py(s.High[k]));
            for (int k = i - 1; k >= start; k--)
                path.LineTo(px(s.X[k]), py(s.Low![k]));
            path.Close();
            canvas.DrawPath(path, fill);
        }
    }

    private static void DrawLine(SKCanvas canvas, ChartSeries s, Func<double, float> px, Func<double, float> py)
    {
        using var stroke = new SKPaint { Color = s.Color, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var dash = s.Dashed ? SKPathEffect.CreateDash([6, 4], 0) : null;
        stroke.PathEffect = dash;
        using var path = new SKPath();
        bool drawing = false;
        int points = 0;
        for (int k = 0; k < s.X.Length; k++)
        {
            if (!double.IsFinite(s.Y[k]) || !double.IsFinite(s.X[k]))
            {
                drawing = false;
                continue;
            }
            if (!drawing)
                path.MoveTo(px(s.X[k]), py(s.Y[k]));
            else
            {
                if (s.Steps)
                    path.LineTo(px(s.X[k]), py(s.Y[k - 1]));
                path.LineTo(px(s.X[k]), py(s.Y[k]));
            }
            drawing = true;
            points++;
        }
        canvas.DrawPath(path, stroke);
        if (points == 1) // a single epoch still shows
        {
            int k = Array.FindIndex(s.Y, double.IsFinite);
            using var dot = new SKPaint { Color = s.Color, IsAntialias = true };
            canvas.DrawCircle(px(s.X[k]), py(s.Y[k]), 3, dot);
        }
    }

    private static void DrawLegend(SKCanvas canvas, IReadOnlyList<ChartSeries> allSeries, SKRect plot, SKPaint label, SKTypeface? typeface)
    {
        // A series without a label stays out of the legend (e.g. all but the best of many trials).
        var series = allSeries.Where(s => s.Label.Length > 0).ToArray();
        if (series.Length == 0)
            return;
        float width = typeface is null ? 30 : series.Max(s => label.MeasureText(s.Label)) + 40;
        var box = new SKRect(plot.Right - width - 8, plot.Top + 8, plot.Right - 8, plot.Top + 14 + 17 * series.Length);
        using var background = new SKPaint { Color = SKColors.White.WithAlpha(0xdd), Style = SKPaintStyle.Fill };
        using var border = new SKPaint { Color = new SKColor(0xb0, 0xb0, 0xb0), Style = SKPaintStyle.Stroke };
        canvas.DrawRect(box, background);
        canvas.DrawRect(box, border);
        for (int i = 0; i < series.Length; i++)
        {
            float y = box.Top + 14 + 17 * i;
            using var stroke = new SKPaint { Color = series[i].Color, StrokeWidth = 2, IsAntialias = true };
            using var dash = series[i].Dashed ? SKPathEffect.CreateDash([6, 4], 0) : null;
            stroke.PathEffect = dash;
            canvas.DrawLine(box.Left + 6, y - 4, box.Left + 28, y - 4, stroke);
            DrawText(canvas, series[i].Label, box.Left + 34, y, label, typeface);
        }
    }

    private static void DrawText(SKCanvas canvas, string text, float x, float y, SKPaint paint, SKTypeface? typeface, bool center = false)
    {
        if (typeface is null || text.Length == 0)
            return; // no usable font on this machine: the chart stays readable by its colours and grid
        canvas.DrawText(text, center ? x - paint.MeasureText(text) / 2 : x, y, paint);
    }

    private static bool Finite(double a, double b) => double.IsFinite(a) && double.IsFinite(b);

    private static (double Min, double Max) Range(IEnumerable<double> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values.Where(double.IsFinite))
        {
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        if (double.IsInfinity(min))
            return (0, 1);
        if (max - min < 1e-12)
        {
            double pad = Math.Max(Math.Abs(min) * 0.05, 0.5);
            return (min - pad, max + pad);
        }
        return (min, max);
    }

    // "Nice" ticks at 1, 2 or 5 times a power of ten, covering [min, max].
    private static double[] Ticks(double min, double max, int target)
    {
        double raw = (max - min) / Math.Max(1, target - 1);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(f => f * magnitude).First(s => s >= raw);
        double first = Math.Floor(min / step) * step, last = Math.Ceiling(max / step) * step;
        int count = (int)Math.Round((last - first) / step) + 1;
        return Enumerable.Range(0, count).Select(i => first + i * step).ToArray();
    }

    private static string Number(double value) =>
        Math.Abs(value) < 1e-12 ? "0" : value.ToString(Math.Abs(value) >= 1e4 || Math.Abs(value) < 1e-3 ? "0.##E+0" : "0.####", CultureInfo.InvariantCulture);
}
