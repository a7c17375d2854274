#!/bin/sh
# Rebuilds DejaVuSans.ttf and DejaVuSans-Bold.ttf here from Debian's fonts-dejavu-core 2.37:
# the same glyphs for Latin (with Polish, Czech, German, Vietnamese…), Greek, Cyrillic and
# the punctuation the lists use, without the rest (see README.md). Needs fontTools (fpdf2's
# dependency): `sh staff/fonts/subset.sh [folder of the original fonts]`.
set -eu
source_dir=${1:-/usr/share/fonts/truetype/dejavu}
python=${PYTHON:-python3}
here=$(dirname "$0")
# Basic Latin, Latin-1, Latin Extended-A and -B, combining marks, Greek, Cyrillic (and its
# supplement), Latin Extended Additional, general punctuation („ ” – …), currency symbols,
# letterlike symbols (№), the scissors of the cut lines.
unicodes="U+0000-024F,U+0300-036F,U+0370-03FF,U+0400-052F,U+1E00-1EFF,U+2000-206F,U+20A0-20CF,U+2100-214F,U+2702"
for face in DejaVuSans DejaVuSans-Bold; do
  "$python" -m fontTools.subset "$source_dir/$face.ttf" --unicodes="$unicodes" \
    --layout-features='*' --output-file="$here/$face.ttf"
done
