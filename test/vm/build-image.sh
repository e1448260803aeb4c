#!/bin/sh
# Builds the runner VM test image: a minimal Debian 12 root file system (an ext4 disk
# image without partitions), its kernel and a small initramfs, into the directory $1.
# test/vm/image.ts caches the result under a hash of this file, so any change here makes
# a new image. FIELD-NOTES.md ("Learned in 2026-12") has the recipe this follows.
set -eu
out=$1
mirror=${MAYFLY_VM_MIRROR:-http://deb.debian.org/debian}
security=${MAYFLY_VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# Downloaded packages are kept next to the images, so a changed recipe rebuilds from them.
debs=${MAYFLY_VM_DEB_CACHE:-$(dirname "$out")/debs}
mkdir -p "$debs"
work=$(mktemp -d "${out%/}.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"

# The packages the product needs on an image (README: "The runner image"), plus what a
# minimal image lacks for them: locales for cloud-init's locale module, dbus for
# unprivileged systemctl, procps for pgrep, ca-certificates for https.
mmdebstrap --variant=minbase --quiet --skip=essential/unlink \
  --setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
  --setup-hook="sync-in $debs /var/cache/apt/archives/" \
  --include=systemd-sysv,dbus,cloud-init,iptables,sudo,curl,ca-certificates,locales,procps,linux-image-amd64,initramfs-tools \
  --customize-hook='echo "en_US.UTF-8 UTF-8" > "$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null' \
  --customize-hook='printf "virtio_pci\nvirtio_blk\next4\n" >> "$1/etc/initramfs-tools/modules"' \
  --customize-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/mayfly-vm-test"' \
  --customize-hook='chroot "$1" update-initramfs -u -k all >/dev/null' \
  --customize-hook="sync-out /var/cache/apt/archives $debs" \
  --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
  --customize-hook='echo mayfly-vm > "$1/etc/hostname" && echo "127.0.1.1 mayfly-vm" >> "$1/etc/hosts"' \
  --customize-hook='cat > "$1/etc/modprobe.d/mayfly-vm-test.conf" <<EOF
# Drivers for the emulated PC that the test does not use; loading each under software
# emulation costs seconds of boot.
blacklist floppy
blacklist ata_piix
blacklist ata_generic
blacklist pata_acpi
blacklist kvm
blacklist kvm_amd
blacklist kvm_intel
blacklist parport_pc
blacklist ppdev
blacklist drm
blacklist bochs
blacklist cfg80211
blacklist pcspkr
blacklist serio_raw
blacklist psmouse
blacklist joydev
blacklist evdev
blacklist sg
blacklist aesni_intel
blacklist ghash_clmulni_intel
blacklist sha512_ssse3
blacklist sha256_ssse3
blacklist crc32_pclmul
blacklist crct10dif_pclmul
blacklist powernow_k8
blacklist edac_mce_amd
blacklist amd64_edac
blacklist i2c_piix4
blacklist button
blacklist intel_rapl_msr
blacklist intel_rapl_common
EOF' \
  --customize-hook='echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" > "$1/etc/fstab"' \
  --customize-hook='mkdir -p "$1/var/log/journal" && : > "$1/etc/machine-id"' \
  --customize-hook='mkdir -m 1777 "$1/var/lib/mayfly-test"' \
  --customize-hook='printf "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n" > "$1/etc/systemd/network/80-dhcp.network"' \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd >/dev/null 2>&1' \
  --customize-hook='chroot "$1" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer >/dev/null 2>&1' \
  --customize-hook='cat > "$1/etc/cloud/cloud.cfg.d/90-mayfly-vm-test.cfg" <<EOF
# Only the NoCloud seed, the network from systemd-networkd, and only the modules the
# rendered user data (write_files, runcmd) and the test (bootcmd in vendor data) use:
# under software emulation each module costs seconds.
datasource_list: [NoCloud, None]
network: {config: disabled}
cloud_init_modules: [bootcmd, write_files]
cloud_config_modules: [runcmd]
cloud_final_modules: [scripts_vendor, scripts_user, final_message]
EOF' \
  bookworm "$root" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main"

cp "$(ls "$root"/boot/vmlinuz-* | tail -n 1)" "$work/vmlinuz"
cp "$(ls "$root"/boot/initrd.img-* | tail -n 1)" "$work/initrd.img"
mke2fs -q -t ext4 -L root -d "$root" "$work/disk.raw" 3G
rm -rf "$root"
mkdir -p "$out"
mv "$work/vmlinuz" "$work/initrd.img" "$work/disk.raw" "$out/"
