using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CausalEval.Build.ElfWeakVersion;

namespace CausalEval.Baseline.Tests;

public sealed class ElfVersionPatcherTests
{
    private static readonly TestElf.Need[] TorchLikeNeeds =
    [
        new("libc.so.6", ("GLIBC_2.34", 0), ("GLIBC_2.2.5", 0)),
        new("libstdc++.so.6", ("GLIBCXX_3.4.30", 0), ("GLIBCXX_3.4.32", 0), ("CXXABI_1.3.13", 0)),
        new("libother.so.1", ("GLIBCXX_3.4.32", 0)),
    ];

    [Fact]
    public void Reads_every_version_need_with_its_file()
    {
        byte[] elf = TestElf.Build(TorchLikeNeeds);

        IReadOnlyList<VersionNeed> needs = ElfImage.Parse(elf).ReadVersionNeeds();

        Assert.Equal(
            [
                ("libc.so.6", "GLIBC_2.34"), ("libc.so.6", "GLIBC_2.2.5"),
                ("libstdc++.so.6", "GLIBCXX_3.4.30"), ("libstdc++.so.6", "GLIBCXX_3.4.32"), ("libstdc++.so.6", "CXXABI_1.3.13"),
                ("libother.so.1", "GLIBCXX_3.4.32"),
            ],
            needs.Select(n => (n.File, n.Version)));
        Assert.All(needs, n => Assert.False(n.IsWeak));
    }

    [Fact]
    public void Reads_version_definitions_without_the_base_entry()
    {
        byte[] elf = TestElf.Build([], ["GLIBCXX_3.4", "GLIBCXX_3.4.30"], soname: "libstdc++.so.6");

        Assert.Equal(["GLIBCXX_3.4", "GLIBCXX_3.4.30"], ElfImage.Parse(elf).ReadVersionDefinitions());
    }

    [Fact]
    public void Weakening_sets_only_the_weak_bit_of_the_matching_entry_and_is_idempotent()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "libtest.so");
        byte[] original = TestElf.Build(TorchLikeNeeds);
        File.WriteAllBytes(path, original);
        VersionNeed target = ElfImage.Parse(original).ReadVersionNeeds()
            .Single(n => n.File == "libstdc++.so.6" && n.Version == "GLIBCXX_3.4.32");

        Assert.Equal(WeakenOutcome.Weakened, ElfVersionPatcher.MakeVersionNeedWeak(path, "libstdc++.so.6", "GLIBCXX_3.4.32"));

        byte[] patched = File.ReadAllBytes(path);
        AssertSameExceptFlags(original, patched, target.FlagsOffset, expectedFlags: 0x2);
        // The same version needed from another library is left alone.
        Assert.Equal(
            ["libstdc++.so.6/GLIBCXX_3.4.32"],
            ElfImage.Parse(patched).ReadVersionNeeds().Where(n => n.IsWeak).Select(n => $"{n.File}/{n.Version}"));

        Assert.Equal(WeakenOutcome.AlreadyWeak, ElfVersionPatcher.MakeVersionNeedWeak(path, "libstdc++.so.6", "GLIBCXX_3.4.32"));
        Assert.Equal(patched, File.ReadAllBytes(path));
    }

    [Fact]
    public void Weakening_keeps_other_flag_bits()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "libtest.so");
        File.WriteAllBytes(path, TestElf.Build([new("libstdc++.so.6", ("GLIBCXX_3.4.32", 0x8000))]));

        Assert.Equal(WeakenOutcome.Weakened, ElfVersionPatcher.MakeVersionNeedWeak(path, "libstdc++.so.6", "GLIBCXX_3.4.32"));

        Assert.Equal(0x8002, ElfImage.Load(path).ReadVersionNeeds().Single().Flags);
    }

    [Fact]
    public void A_file_that_does_not_need_the_version_is_not_written()
    {
        using var temp = new TempDirectory();
        string path = Path.Combine(temp.Path, "libtest.so");
        byte[] original = TestElf.Build([new("libstdc++.so.6", ("GLIBCXX_3.4.30", 0))]);
        File.WriteAllBytes(path, original);
        DateTime stamp = new(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);

        Assert.Equal(WeakenOutcome.NotRequired, ElfVersionPatcher.MakeVersionNeedWeak(path, "libstdc++.so.6", "GLIBCXX_3.4.32"));

        Assert.Equal(original, File.ReadAllBytes(path));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void Rejects_files_that_are_not_elf64_little_endian_or_are_truncated()
    {
        Assert.Throws<InvalidDataException>(() => ElfImage.Parse("#!/bin/sh\necho hi\n"u8.ToArray()));

        byte[] elf32 = TestElf.Build(TorchLikeNeeds);
        elf32[4] = 1; // ELFCLASS32
        Assert.Throws<InvalidDataException>(() => ElfImage.Parse(elf32));

        byte[] elf = TestElf.Build(TorchLikeNeeds);
        Assert.Throws<InvalidDataException>(() => ElfImage.Parse(elf[..(elf.Length - 10)]));

        // A Vernaux name index pointing past .dynstr.
        VersionNeed first = ElfImage.Parse(elf).ReadVersionNeeds()[0];
        byte[] badName = (byte[])elf.Clone();
        badName[first.FlagsOffset + 4 + 3] = 0x7f; // high byte of vna_name
        Assert.Throws<InvalidDataException>(() => ElfImage.Parse(badName).ReadVersionNeeds());
    }

    [Fact]
    public void Finds_libraries_in_ldconfig_output()
    {
        const string output = """
            1234 libs found in cache `/etc/ld.so.cache'
            	libstdc++.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libstdc++.so.6
            	libstdc++.so.6 (libc6) => /lib/i386-linux-gnu/libstdc++.so.6
            	libstdc++.so (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libstdc++.so
            	libstdc++fs.so.6 (libc6,x86-64) => /usr/lib/libstdc++fs.so.6
            """;

        Assert.Equal(
            ["/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/i386-linux-gnu/libstdc++.so.6"],
            SharedLibraryLocator.ParseLdconfigOutput(output, "libstdc++.so.6"));
    }

    [Fact]
    public void Reads_the_version_definitions_of_the_system_libstdcxx()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // no system libstdc++.so.6 to read
        }

        ushort machine = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 62,
            Architecture.Arm64 => 183,
            _ => 0,
        };
        string? path = SharedLibraryLocator.Find("libstdc++.so.6", machine);

        Assert.NotNull(path);
        IReadOnlyList<string> versions = ElfImage.Load(path).ReadVersionDefinitions();
        Assert.Equal("GLIBCXX_3.4", versions[0]);
        Assert.Contains("CXXABI_1.3", versions);
        Assert.DoesNotContain("libstdc++.so.6", versions);
        Assert.True(ElfVersionPatcher.DefinesVersion(path, "GLIBCXX_3.4.21"));
        Assert.False(ElfVersionPatcher.DefinesVersion(path, "GLIBCXX_99.0"));
    }

    internal static void AssertSameExceptFlags(byte[] before, byte[] after, long flagsOffset, ushort expectedFlags)
    {
        Assert.Equal(before.Length, after.Length);
        Assert.Equal(expectedFlags, BinaryPrimitives.ReadUInt16LittleEndian(after.AsSpan((int)flagsOffset)) & expectedFlags);
        var differing = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        Assert.NotEmpty(differing);
        Assert.All(differing, i => Assert.InRange(i, flagsOffset, flagsOffset + 1));
    }
}
