#!/bin/bash
# The deb's postinst (electron-builder's deb.afterInstall template: ${executable} and
# ${sanitizedProductName} are filled in at build time). The first part is electron-builder 26's own
# after-install script, unchanged; ours follows it, between the "ObjectTwin" markers.

if type update-alternatives >/dev/null 2>&1; then
    # Remove previous link if it doesn't use update-alternatives
    if [ -L '/usr/bin/${executable}' -a -e '/usr/bin/${executable}' -a "`readlink '/usr/bin/${executable}'`" != '/etc/alternatives/${executable}' ]; then
        rm -f '/usr/bin/${executable}'
    fi
    update-alternatives --install '/usr/bin/${executable}' '${executable}' '/opt/${sanitizedProductName}/${executable}' 100 || ln -sf '/opt/${sanitizedProductName}/${executable}' '/usr/bin/${executable}'
else
    ln -sf '/opt/${sanitizedProductName}/${executable}' '/usr/bin/${executable}'
fi

# Check if user namespaces are supported by the kernel and working with a quick test:
if ! { [[ -L /proc/self/ns/user ]] && unshare --user true; }; then
    # Use SUID chrome-sandbox only on systems without user namespaces:
    chmod 4755 '/opt/${sanitizedProductName}/chrome-sandbox' || true
else
    chmod 0755 '/opt/${sanitizedProductName}/chrome-sandbox' || true
fi

if hash update-mime-database 2>/dev/null; then
    update-mime-database /usr/share/mime || true
fi

if hash update-desktop-database 2>/dev/null; then
    update-desktop-database /usr/share/applications || true
fi

# Install apparmor profile. (Ubuntu 24+)
# First check if the version of AppArmor running on the device supports our profile.
# This is in order to keep backwards compatibility with Ubuntu 22.04 which does not support abi/4.0.
# In that case, we just skip installing the profile since the app runs fine without it on 22.04.
if apparmor_status --enabled > /dev/null 2>&1; then
  APPARMOR_PROFILE_SOURCE='/opt/${sanitizedProductName}/resources/apparmor-profile'
  APPARMOR_PROFILE_TARGET='/etc/apparmor.d/${executable}'
  if apparmor_parser --skip-kernel-load --debug "$APPARMOR_PROFILE_SOURCE" > /dev/null 2>&1; then
    cp -f "$APPARMOR_PROFILE_SOURCE" "$APPARMOR_PROFILE_TARGET"
    if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
      apparmor_parser --replace --write-cache --skip-read-cache "$APPARMOR_PROFILE_TARGET"
    fi
  else
    echo "Skipping the installation of the AppArmor profile as this version of AppArmor does not seem to support the bundled profile"
  fi
fi

# --- ObjectTwin: raw HCI for the console's local gateway -------------------------------------------
# noble drives a Bluetooth adapter through a raw HCI socket, which needs CAP_NET_RAW and CAP_NET_ADMIN.
# Granting them to the app's binary lets a laptop's adapter work without root (README, "Attaching a
# BLE adapter"). A binary with file capabilities runs in secure-execution mode, where the loader
# ignores its $ORIGIN RUNPATH and would no longer find libffmpeg.so next to it: that library alone is
# linked into a directory of its own, which goes into the loader's cache (ld.so.conf.d takes one
# unquoted path per line, and the install directory has a space in its name).
APP_DIR='/opt/${sanitizedProductName}'
LIB_DIR='/usr/lib/${executable}'
if command -v setcap >/dev/null 2>&1; then
  mkdir -p "$LIB_DIR"
  ln -sf "$APP_DIR/libffmpeg.so" "$LIB_DIR/libffmpeg.so"
  echo "$LIB_DIR" > '/etc/ld.so.conf.d/${executable}.conf'
  ldconfig || true
  if ! setcap cap_net_raw,cap_net_admin+eip "$APP_DIR/${executable}"; then
    echo "ObjectTwin Console: could not set cap_net_raw,cap_net_admin on $APP_DIR/${executable}; a Bluetooth adapter will need root (see the README)" >&2
  fi
else
  echo "ObjectTwin Console: setcap is missing (package libcap2-bin); a Bluetooth adapter will need root (see the README)" >&2
fi
# --- end ObjectTwin ----------------------------------------------------------------------------------
