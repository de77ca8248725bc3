using System.Buffers.Binary;
using System.Text;

namespace CausalEval.Baseline.Tests;

/// <summary>
/// Builds a small, well-formed ELF64 little-endian file with only what the version tools read:
/// <c>.dynstr</c>, <c>.gnu.version_r</c>, <c>.gnu.version_d</c> and <c>.shstrtab</c>.
/// </summary>
internal static class TestElf
{
    internal sealed record Need(string File, params (string Version, ushort Flags)[] Versions);

    internal static byte[] Build(IReadOnlyList<Need> needs, IReadOnlyList<string>? definitions = null, string soname = "libtest.so.1")
    {
        var dynstr = new StringTable();
        var shstrtab = new StringTable();

        // .gnu.version_r: each Verneed (16 bytes) is followed by its Vernaux entries (16 bytes each).
        var verneed = new List<byte>();
        ushort versionIndex = 2; // vna_other: the version's index in .gnu.version (0 and 1 are reserved)
        for (int i = 0; i < needs.Count; i++)
        {
            Need need = needs[i];
            int size = 16 + (16 * need.Versions.Length);
            verneed.AddRange(U16(1));                                  // vn_version
            verneed.AddRange(U16((ushort)need.Versions.Length));       // vn_cnt
            verneed.AddRange(U32(dynstr.Add(need.File)));              // vn_file
            verneed.AddRange(U32(16));                                 // vn_aux
            verneed.AddRange(U32(i + 1 < needs.Count ? (uint)size : 0)); // vn_next
            for (int j = 0; j < need.Versions.Length; j++)
            {
                verneed.AddRange(U32(0x0c0ffee0u + (uint)j));           // vna_hash (not checked)
                verneed.AddRange(U16(need.Versions[j].Flags));         // vna_flags
                verneed.AddRange(U16(versionIndex++));                 // vna_other
                verneed.AddRange(U32(dynstr.Add(need.Versions[j].Version))); // vna_name
                verneed.AddRange(U32(j + 1 < need.Versions.Length ? 16u : 0u)); // vna_next
            }
        }

        // .gnu.version_d: a base entry naming the file, then one Verdef (20) + Verdaux (8) per version.
        var verdef = new List<byte>();
        List<(string Name, ushort Flags)> defs = [(soname, 1), .. (definitions ?? []).Select(d => (d, (ushort)0))];
        for (int i = 0; i < defs.Count; i++)
        {
            verdef.AddRange(U16(1));                         // vd_version
            verdef.AddRange(U16(defs[i].Flags));             // vd_flags
            verdef.AddRange(U16((ushort)(i + 1)));           // vd_ndx
            verdef.AddRange(U16(1));                         // vd_cnt
            verdef.AddRange(U32(0));                         // vd_hash (not checked)
            verdef.AddRange(U32(20));                        // vd_aux
            verdef.AddRange(U32(i + 1 < defs.Count ? 28u : 0u)); // vd_next
            verdef.AddRange(U32(dynstr.Add(defs[i].Name)));  // vda_name
            verdef.AddRange(U32(0));                         // vda_next
        }

        var sections = new List<(string Name, uint Type, byte[] Data, uint Link, uint Info)>
        {
            (".dynstr", 3, [], 0, 0),  // data filled in below, once every string is added
            (".gnu.version_r", 0x6ffffffe, [.. verneed], 1, (uint)needs.Count),
            (".gnu.version_d", 0x6ffffffd, [.. verdef], 1, (uint)defs.Count),
            (".shstrtab", 3, [], 0, 0),
        };
        sections[0] = sections[0] with { Data = dynstr.Bytes() };
        uint[] nameIndex = [.. sections.Select(s => shstrtab.Add(s.Name))];
        sections[3] = sections[3] with { Data = shstrtab.Bytes() };

        var file = new List<byte>(new byte[64]);
        var offsets = new List<int>();
        foreach (var section in sections)
        {
            offsets.Add(file.Count);
            file.AddRange(section.Data);
            while (file.Count % 8 != 0)
            {
                file.Add(0);
            }
        }

        int shoff = file.Count;
        file.AddRange(new byte[64]); // section 0: SHN_UNDEF
        for (int i = 0; i < sections.Count; i++)
        {
            var sh = new byte[64];
            BinaryPrimitives.WriteUInt32LittleEndian(sh, nameIndex[i]);
            BinaryPrimitives.WriteUInt32LittleEndian(sh.AsSpan(4), sections[i].Type);
            BinaryPrimitives.WriteUInt64LittleEndian(sh.AsSpan(24), (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(sh.AsSpan(32), (ulong)sections[i].Data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(sh.AsSpan(40), sections[i].Link);
            BinaryPrimitives.WriteUInt32LittleEndian(sh.AsSpan(44), sections[i].Info);
            file.AddRange(sh);
        }

        byte[] bytes = [.. file];
        Span<byte> header = bytes.AsSpan(0, 64);
        header[0] = 0x7f;
        header[1] = (byte)'E';
        header[2] = (byte)'L';
        header[3] = (byte)'F';
        header[4] = 2; // ELFCLASS64
        header[5] = 1; // ELFDATA2LSB
        header[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x10..], 3);   // e_type = ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x12..], 62);  // e_machine = x86-64
        BinaryPrimitives.WriteUInt32LittleEndian(header[0x14..], 1);   // e_version
        BinaryPrimitives.WriteUInt64LittleEndian(header[0x28..], (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x34..], 64);  // e_ehsize
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x3a..], 64);  // e_shentsize
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x3c..], (ushort)(sections.Count + 1));
        BinaryPrimitives.WriteUInt16LittleEndian(header[0x3e..], (ushort)sections.Count); // .shstrtab
        return bytes;
    }

    private static byte[] U16(ushort value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        return b;
    }

    private static byte[] U32(uint value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return b;
    }

    private sealed class StringTable
    {
        private readonly List<byte> _bytes = [0];
        private readonly Dictionary<string, uint> _index = new(StringComparer.Ordinal);

        internal uint Add(string value)
        {
            if (!_index.TryGetValue(value, out uint index))
            {
                index = (uint)_bytes.Count;
                _bytes.AddRange(Encoding.UTF8.GetBytes(value));
                _bytes.Add(0);
                _index[value] = index;
            }

            return index;
        }

        internal byte[] Bytes() => [.. _bytes];
    }
}
