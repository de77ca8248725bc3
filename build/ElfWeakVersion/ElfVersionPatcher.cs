using System.Buffers.Binary;

namespace CausalEval.Build.ElfWeakVersion;

internal enum WeakenOutcome
{
    /// <summary>The requirement was strong and is now weak.</summary>
    Weakened,

    /// <summary>The requirement was already weak; the file was not written.</summary>
    AlreadyWeak,

    /// <summary>The file does not need that version from that library; the file was not written.</summary>
    NotRequired,
}

/// <summary>
/// Marks a symbol-version requirement weak, in place: for every Vernaux entry of
/// <c>.gnu.version_r</c> that needs <c>versionName</c> from <c>neededLibrary</c>, it sets
/// VER_FLG_WEAK in <c>vna_flags</c>. glibc's loader then reports a missing version as a warning
/// (visible with LD_DEBUG=versions) instead of refusing to load the object. Symbols bound to that
/// version still fail to resolve if actually called, so this is only right for a requirement the
/// object never exercises. Only those two-byte fields are written; nothing else in the file moves.
/// </summary>
internal static class ElfVersionPatcher
{
    internal static WeakenOutcome MakeVersionNeedWeak(string path, string neededLibrary, string versionName)
    {
        ElfImage image = ElfImage.Load(path);
        List<VersionNeed> matches = image.ReadVersionNeeds()
            .Where(n => n.File == neededLibrary && n.Version == versionName)
            .ToList();
        if (matches.Count == 0)
        {
            return WeakenOutcome.NotRequired;
        }

        if (matches.TrueForAll(n => n.IsWeak))
        {
            return WeakenOutcome.AlreadyWeak;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
        Span<byte> field = stackalloc byte[2];
        foreach (VersionNeed need in matches.Where(n => !n.IsWeak))
        {
            BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)(need.Flags | ElfImage.VerFlagWeak));
            stream.Position = need.FlagsOffset;
            stream.Write(field);
        }

        return WeakenOutcome.Weakened;
    }

    /// <summary>True if the ELF file at <paramref name="path"/> defines <paramref name="versionName"/>.</summary>
    internal static bool DefinesVersion(string path, string versionName) =>
        ElfImage.Load(path).ReadVersionDefinitions().Contains(versionName, StringComparer.Ordinal);
}
