using QRCoder;

namespace WapBridge.Core.Instances;

public static class QrCodeImages
{
    /// <summary>The QR payload as a PNG data URL, ready for an &lt;img src&gt;.</summary>
    public static string ToPngDataUrl(string payload)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(payload, QRCodeGenerator.ECCLevel.L);
        var png = new PngByteQRCode(data).GetGraphic(6);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
