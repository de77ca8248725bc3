using System.Buffers.Binary;
using System.Text;

namespace CausalEval.Build.ElfWeakVersion;

/// <summary>One section header of an ELF file (only the fields this tool uses).</summary>
internal sealed record ElfSection(string Name, uint Type, ulong Offset, ulong Size, uint Link, uint Info);

/// <summary>
/// One symbol-version requirement (a Vernaux entry of <c>.gnu.version_r</c>): the object needs
/// <see cref="Version"/> from the library <see cref="File"/>. <see cref="FlagsOffset"/> is the file
/// offset of the entry's 2-byte <c>vna_flags</c> field.
/// </summary>
internal sealed record VersionNeed(string File, string Version, ushort Flags, long FlagsOffset)
{
    public bool IsWeak => (Flags & ElfImage.VerFlagWeak) != 0;
}

/// <summary>
/// Minimal read-only parser for 64-bit little-endian ELF files: the header, the section headers
/// (named through the section-header string table), and the GNU symbol-versioning sections
/// <c>.gnu.version_r</c> (versions needed) and <c>.gnu.version_d</c> (versions defined).
/// Layouts follow the System V gABI and the LSB "Symbol Versioning" chapter; every offset read
/// from the file is bounds-checked and malformed input raises <see cref="InvalidDataException"/>.
/// </summary>
internal sealed class ElfImage
{
    /// <summary>VER_FLG_BASE: a Verdef entry that names the file itself, not a version.</summary>
    internal const ushort VerFlagBase = 0x1;

    /// <summary>VER_FLG_WEAK: a missing version is not fatal for the dynamic loader.</summary>
    internal const ushort VerFlagWeak = 0x2;

    internal const uint ShtStrtab = 3;
    internal const uint ShtGnuVerdef = 0x6ffffffd;
    internal const uint ShtGnuVerneed = 0x6ffffffe;

    private const int HeaderSize = 64;          // sizeof(Elf64_Ehdr)
    private const int SectionHeaderSize = 64;   // sizeof(Elf64_Shdr)
    private const int VerneedSize = 16;         // sizeof(Elf64_Verneed)
    private const int VernauxSize = 16;         // sizeof(Elf64_Vernaux)
    private const int VerdefSize = 20;          // sizeof(Elf64_Verdef)
    private const int VerdauxSize = 8;          // sizeof(Elf64_Verdaux)
    private const ushort ShnXindex = 0xffff;

    private readonly byte[] _bytes;

    private ElfImage(byte[] bytes, ushort machine, IReadOnlyList<ElfSection> sections)
    {
        _bytes = bytes;
        Machine = machine;
        Sections = sections;
    }

    /// <summary>e_machine (62 = x86-64, 183 = AArch64).</summary>
    internal ushort Machine { get; }

    internal IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>True if the bytes start like an ELF64 little-endian file (magic, class, data).</summary>
    internal static bool LooksLikeElf64LittleEndian(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= HeaderSize
        && bytes[0] == 0x7f && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F'
        && bytes[4] == 2   // EI_CLASS = ELFCLASS64
        && bytes[5] == 1;  // EI_DATA = ELFDATA2LSB

    internal static ElfImage Load(string path) => Parse(File.ReadAllBytes(path));

    internal static ElfImage Parse(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length < 4 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            throw new InvalidDataException("Not an ELF file (bad magic).");
        }

        if (!LooksLikeElf64LittleEndian(bytes))
        {
            throw new InvalidDataException("Only 64-bit little-endian ELF files are supported.");
        }

        ReadOnlySpan<byte> header = bytes.AsSpan(0, HeaderSize);
        ushort machine = BinaryPrimitives.ReadUInt16LittleEndian(header[0x12..]);
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(header[0x28..]);
        ushort shentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3a..]);
        ulong shnum = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3c..]);
        uint shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(header[0x3e..]);

        if (shoff == 0)
        {
            throw new InvalidDataException("The ELF file has no section header table.");
        }

        if (shentsize != SectionHeaderSize)
        {
            throw new InvalidDataException($"Unexpected section header size {shentsize} (expected {SectionHeaderSize}).");
        }

        // With 0xff00 sections or more, e_shnum is 0 and e_shstrndx is SHN_XINDEX: the real values
        // live in sh_size and sh_link of section header 0.
        ReadOnlySpan<byte> first = Slice(bytes, shoff, SectionHeaderSize);
        if (shnum == 0)
        {
            shnum = BinaryPrimitives.ReadUInt64LittleEndian(first[32..]);
        }

        if (shstrndx == ShnXindex)
        {
            shstrndx = BinaryPrimitives.ReadUInt32LittleEndian(first[40..]);
        }

        if (shnum > (ulong)(bytes.Length / SectionHeaderSize))
        {
            throw new InvalidDataException($"Section count {shnum} does not fit in the file.");
        }

        if (shstrndx >= shnum)
        {
            throw new InvalidDataException($"Section-name string table index {shstrndx} is out of range.");
        }

        var raw = new (uint Name, uint Type, ulong Offset, ulong Size, uint Link, uint Info)[shnum];
        for (ulong i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> sh = Slice(bytes, checked(shoff + (i * SectionHeaderSize)), SectionHeaderSize);
            raw[i] = (
                BinaryPrimitives.ReadUInt32LittleEndian(sh),          // sh_name
                BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]),     // sh_type
                BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]),    // sh_offset
                BinaryPrimitives.ReadUInt64LittleEndian(sh[32..]),    // sh_size
                BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]),    // sh_link
                BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]));   // sh_info
        }

        var names = raw[shstrndx];
        if (names.Type != ShtStrtab)
        {
            throw new InvalidDataException("The section-name string table is not a string table.");
        }

        var sections = new ElfSection[shnum];
        for (ulong i = 0; i < shnum; i++)
        {
            var s = raw[i];
            string name = ReadString(bytes, names.Offset, names.Size, s.Name);
            sections[i] = new ElfSection(name, s.Type, s.Offset, s.Size, s.Link, s.Info);
        }

        return new ElfImage(bytes, machine, sections);
    }

    internal ElfSection? FindSection(string name) => Sections.FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// Every Vernaux entry of <c>.gnu.version_r</c>, with the needed file's name and the version's
    /// name resolved through the string table the section links to (normally <c>.dynstr</c>).
    /// Empty if the file has no such section.
    /// </summary>
    internal IReadOnlyList<VersionNeed> ReadVersionNeeds()
    {
        ElfSection? section = FindSection(".gnu.version_r");
        if (section is null)
        {
            return [];
        }

        if (section.Type != ShtGnuVerneed)
        {
            throw new InvalidDataException(".gnu.version_r is not of type SHT_GNU_verneed.");
        }

        ElfSection strings = LinkedStringTable(section);
        var result = new List<VersionNeed>();
        ulong entry = section.Offset;
        ulong end = checked(section.Offset + section.Size);
        // sh_info holds the number of Verneed entries; the vn_next chain must agree with it.
        for (uint i = 0; i < section.Info; i++)
        {
            ReadOnlySpan<byte> vn = SliceWithin(entry, VerneedSize, end);
            ushort vnVersion = BinaryPrimitives.ReadUInt16LittleEndian(vn);
            ushort vnCnt = BinaryPrimitives.ReadUInt16LittleEndian(vn[2..]);
            uint vnFile = BinaryPrimitives.ReadUInt32LittleEndian(vn[4..]);
            uint vnAux = BinaryPrimitives.ReadUInt32LittleEndian(vn[8..]);
            uint vnNext = BinaryPrimitives.ReadUInt32LittleEndian(vn[12..]);
            if (vnVersion != 1)
            {
                throw new InvalidDataException($"Unsupported Verneed version {vnVersion}.");
            }

            string file = ReadString(_bytes, strings.Offset, strings.Size, vnFile);
            ulong aux = checked(entry + vnAux);
            for (ushort j = 0; j < vnCnt; j++)
            {
                ReadOnlySpan<byte> vna = SliceWithin(aux, VernauxSize, end);
                ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(vna[4..]);
                uint name = BinaryPrimitives.ReadUInt32LittleEndian(vna[8..]);
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(vna[12..]);
                string version = ReadString(_bytes, strings.Offset, strings.Size, name);
                result.Add(new VersionNeed(file, version, flags, checked((long)aux + 4)));
                if (next == 0 && j + 1 < vnCnt)
                {
                    throw new InvalidDataException($"Vernaux chain of {file} ends before its {vnCnt} entries.");
                }

                aux = checked(aux + next);
            }

            if (vnNext == 0)
            {
                if (i + 1 < section.Info)
                {
                    throw new InvalidDataException("Verneed chain ends before the count in sh_info.");
                }

                break;
            }

            entry = checked(entry + vnNext);
        }

        return result;
    }

    /// <summary>
    /// The version names this file defines (its <c>.gnu.version_d</c>, without the base entry
    /// that names the file itself). Empty if the file defines no versions.
    /// </summary>
    internal IReadOnlyList<string> ReadVersionDefinitions()
    {
        ElfSection? section = FindSection(".gnu.version_d");
        if (section is null)
        {
            return [];
        }

        if (section.Type != ShtGnuVerdef)
        {
            throw new InvalidDataException(".gnu.version_d is not of type SHT_GNU_verdef.");
        }

        ElfSection strings = LinkedStringTable(section);
        var result = new List<string>();
        ulong entry = section.Offset;
        ulong end = checked(section.Offset + section.Size);
        for (uint i = 0; i < section.Info; i++)
        {
            ReadOnlySpan<byte> vd = SliceWithin(entry, VerdefSize, end);
            ushort vdVersion = BinaryPrimitives.ReadUInt16LittleEndian(vd);
            ushort vdFlags = BinaryPrimitives.ReadUInt16LittleEndian(vd[2..]);
            ushort vdCnt = BinaryPrimitives.ReadUInt16LittleEndian(vd[6..]);
            uint vdAux = BinaryPrimitives.ReadUInt32LittleEndian(vd[12..]);
            uint vdNext = BinaryPrimitives.ReadUInt32LittleEndian(vd[16..]);
            if (vdVersion != 1)
            {
                throw new InvalidDataException($"Unsupported Verdef version {vdVersion}.");
            }

            // The first Verdaux names the version; later ones name its predecessors.
            if (vdCnt > 0 && (vdFlags & VerFlagBase) == 0)
            {
                ReadOnlySpan<byte> vda = SliceWithin(checked(entry + vdAux), VerdauxSize, end);
                uint name = BinaryPrimitives.ReadUInt32LittleEndian(vda);
                result.Add(ReadString(_bytes, strings.Offset, strings.Size, name));
            }

            if (vdNext == 0)
            {
                break;
            }

            entry = checked(entry + vdNext);
        }

        return result;
    }

    private ElfSection LinkedStringTable(ElfSection section)
    {
        if (section.Link >= Sections.Count || Sections[(int)section.Link].Type != ShtStrtab)
        {
            throw new InvalidDataException($"{section.Name} does not link to a string table.");
        }

        return Sections[(int)section.Link];
    }

    private ReadOnlySpan<byte> SliceWithin(ulong offset, int length, ulong sectionEnd)
    {
        if (offset > sectionEnd || (ulong)length > sectionEnd - offset)
        {
            throw new InvalidDataException($"A versioning entry at offset 0x{offset:x} runs past its section.");
        }

        return Slice(_bytes, offset, length);
    }

    private static ReadOnlySpan<byte> Slice(byte[] bytes, ulong offset, int length)
    {
        if (offset > (ulong)bytes.Length || (ulong)length > (ulong)bytes.Length - offset)
        {
            throw new InvalidDataException($"Offset 0x{offset:x} (+{length}) lies outside the file.");
        }

        return bytes.AsSpan((int)offset, length);
    }

    private static string ReadString(byte[] bytes, ulong tableOffset, ulong tableSize, uint index)
    {
        if (index >= tableSize)
        {
            throw new InvalidDataException($"String index {index} lies outside its string table.");
        }

        ReadOnlySpan<byte> table = Slice(bytes, tableOffset, checked((int)tableSize));
        ReadOnlySpan<byte> rest = table[(int)index..];
        int nul = rest.IndexOf((byte)0);
        if (nul < 0)
        {
            throw new InvalidDataException($"String at index {index} is not NUL-terminated.");
        }

        return Encoding.UTF8.GetString(rest[..nul]);
    }
}
