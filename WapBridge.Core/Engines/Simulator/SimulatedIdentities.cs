using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>
/// Who a simulated number is: its LID and its profile. Everything is derived from the customer and the number, so every
/// node and every restart gives the same answers without storing them, and two customers' worlds never share a LID.
/// </summary>
internal static class SimulatedIdentities
{
    private static readonly string[] FirstNames = ["Asha", "Baraka", "Neema", "Juma", "Rehema", "Salim", "Zawadi", "Hamisi", "Upendo", "Omari", "Amani", "Faraja"];
    private static readonly string[] LastNames = ["Mushi", "Kimaro", "Mwakyusa", "Njoroge", "Otieno", "Hassan", "Mollel", "Swai", "Wanjiru", "Kombo"];
    private static readonly string[] Abouts = ["Hey there! I am using WhatsApp.", "Available", "Busy", "At work", "Urgent calls only", "Sleeping"];

    /// <summary>The number's LID user part: 15 digits, as WhatsApp's are.</summary>
    public static string LidOf(int customerId, string phone) =>
        "1" + (Hash(customerId, "lid", phone) % 100_000_000_000_000UL).ToString("D14", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The push name a simulated contact (not one of the customer's instances) shows.</summary>
    public static string PushNameOf(int customerId, string phone)
    {
        var hash = Hash(customerId, "name", phone);
        return FirstNames[(int)(hash % (ulong)FirstNames.Length)] + " " + LastNames[(int)(hash / 16 % (ulong)LastNames.Length)];
    }

    public static string AboutOf(int customerId, string phone) => Abouts[(int)(Hash(customerId, "about", phone) % (ulong)Abouts.Length)];

    /// <summary>
    /// Where the number falls in [0, 1): a simulated contact answers a first message when this is below the phone's
    /// reply rate, so the same numbers answer on every run.
    /// </summary>
    public static double ReplyDraw(int customerId, string phone) => (Hash(customerId, "reply", phone) >> 11) * (1.0 / (1UL << 53));

    private static ulong Hash(int customerId, string purpose, string phone) =>
        BinaryPrimitives.ReadUInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"{customerId}/{purpose}/{phone}")));
}
