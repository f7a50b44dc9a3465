#!/bin/bash
# The deb's postrm (electron-builder's deb.afterRemove template). electron-builder 26's own
# after-remove script, unchanged, then the undoing of what our postinst added.

# Delete the link to the binary
if type update-alternatives >/dev/null 2>&1; then
    update-alternatives --remove '${executable}' '/opt/${sanitizedProductName}/${executable}'
else
    rm -f '/usr/bin/${executable}'
fi

APPARMOR_PROFILE_DEST='/etc/apparmor.d/${executable}'

# Remove and unload apparmor profile.
if [ -f "$APPARMOR_PROFILE_DEST" ]; then
  if apparmor_status --enabled > /dev/null 2>&1; then
    if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
      apparmor_parser --remove "$APPARMOR_PROFILE_DEST" || true
    fi
  fi
  rm -f "$APPARMOR_PROFILE_DEST"
fi

# --- ObjectTwin: the loader-cache entry for libffmpeg.so (see deb-after-install.sh) ----------------
rm -f '/etc/ld.so.conf.d/${executable}.conf'
rm -rf '/usr/lib/${executable}'
ldconfig || true
# --- end ObjectTwin ----------------------------------------------------------------------------------
