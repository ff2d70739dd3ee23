namespace AnalysisRunner.GcsTestServer;

/// <summary>CRC-32C (Castagnoli), as GCS reports it in an object's crc32c: big-endian, base64.</summary>
internal static class Crc32C
{
    private static readonly uint[] Table = BuildTable();

    public static string Base64(ReadOnlySpan<byte> data)
    {
        var crc = ~0u;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xff] ^ (crc >> 8);
        crc = ~crc;
        return Convert.ToBase64String([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        return table;
    }
}
