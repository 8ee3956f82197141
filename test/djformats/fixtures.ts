// Exports as rekordbox and Traktor write them, made from the documented
// formats (rekordbox's "xml_format_list", Traktor's NML as public parsers'
// test data show it) with the details real files carry: localised Kind
// strings with trailing spaces, percent-encoded Windows and macOS Locations,
// attributes and elements a reader does not need, variable grids, loops,
// memory cues, colours, folders, KeyType 1 playlists, history playlists.

export const REKORDBOX_XML = `<?xml version="1.0" encoding="UTF-8"?>

<DJ_PLAYLISTS Version="1.0.0">
  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>
  <COLLECTION Entries="4">
    <TRACK TrackID="21899570" Name="Čeh &amp; Don&apos;t" Artist="Nina &quot;N&quot; K" Composer="" Album="Trip &lt;1&gt;" Grouping="" Genre="Techno" Kind="MP3 File " Size="10000000" TotalTime="412" DiscNumber="0" TrackNumber="3" Year="2024" AverageBpm="128.00" DateAdded="2026-09-01" BitRate="320" SampleRate="44100" Comments="line one&#10;line two" PlayCount="12" Rating="204" Location="file://localhost/C:/Music/Sets/%C4%8Ceh%20%26%20Don't%20%23%20100%25.mp3" Remixer="" Tonality="Fm" Label="Trip" Mix="" Colour="0xFF007F" DateModified="2026-09-20" LastPlayed="2026-10-01">
      <TEMPO Inizio="0.025" Bpm="128.00" Metro="4/4" Battito="1"/>
      <TEMPO Inizio="60.025" Bpm="130.00" Metro="4/4" Battito="3"/>
      <TEMPO Inizio="120.487" Bpm="131.50" Metro="4/4" Battito="2"/>
      <POSITION_MARK Name="" Type="0" Start="0.025" Num="-1"/>
      <POSITION_MARK Name="Drop" Type="0" Start="64.025" Num="0" Red="230" Green="40" Blue="40"/>
      <POSITION_MARK Name="Roll" Type="4" Start="96.4" End="98.275" Num="1" Red="255" Green="140" Blue="0"/>
      <POSITION_MARK Name="" Type="4" Start="180.101" End="187.601" Num="-1"/>
      <POSITION_MARK Name="" Type="1" Start="1.5" Num="-1"/>
      <POSITION_MARK Name="" Type="3" Start="0.3" Num="-1"/>
      <POSITION_MARK Name="Outro" Type="0" Start="300.123" Num="7" Red="48" Green="90" Blue="255"/>
      <MOOD Value="3"/>
    </TRACK>
    <TRACK TrackID="2" Name="Warm up" Artist="" Album="" Genre="" Kind="FLAC ファイル " Size="40000000" TotalTime="312" AverageBpm="0.00" Comments="" PlayCount="0" Rating="0" Location="file://localhost/Users/dj/Music/%C3%9Cber%20Alles/b%20c.flac" Tonality="8A"/>
    <TRACK TrackID="3" Name="Third" Kind="WAV File" Size="52000000" TotalTime="295" AverageBpm="124.50" Rating="255" Location="file://localhost/D:/DJ/third.wav" Tonality="Dbm">
      <TEMPO Inizio="0.100" Bpm="124.50" Metro="4/4" Battito="1"/>
    </TRACK>
    <TRACK TrackID="4" Name="Fourth" Kind="AIFF File" Location="file://localhost/Volumes/USB%20Stick/Sets/d.aiff" Tonality="12B" Rating="51"/>
  </COLLECTION>
  <PLAYLISTS>
    <NODE Type="0" Name="ROOT" Count="4">
      <NODE Type="0" Name="Gigs" Count="1">
        <NODE Type="0" Name="2026" Count="1">
          <NODE Name="Friday &amp; Saturday" Type="1" KeyType="0" Entries="3">
            <TRACK Key="21899570"/>
            <TRACK Key="2"/>
            <TRACK Key="3"/>
          </NODE>
        </NODE>
      </NODE>
      <NODE Name="By file" Type="1" KeyType="1" Entries="3">
        <TRACK Key="file://localhost/Users/dj/Music/%C3%9Cber%20Alles/b%20c.flac"/>
        <TRACK Key="file://localhost/Volumes/USB%20Stick/Sets/d.aiff"/>
        <TRACK Key="file://localhost/Users/dj/Music/gone.mp3"/>
      </NODE>
      <NODE Name="Empty" Type="1" KeyType="0" Entries="0"/>
      <NODE Type="0" Name="Empty folder" Count="0"/>
    </NODE>
  </PLAYLISTS>
</DJ_PLAYLISTS>
`

/** 2026-12-05 packed as Traktor's STARTDATE: year << 16 | month << 8 | day. */
export const DEC_5_2026 = (2026 << 16) | (12 << 8) | 5

export const TRAKTOR_NML = `<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<NML VERSION="19"><HEAD COMPANY="www.native-instruments.com" PROGRAM="Traktor"></HEAD>
<MUSICFOLDERS></MUSICFOLDERS>
<COLLECTION ENTRIES="3"><ENTRY MODIFIED_DATE="2026/11/30" MODIFIED_TIME="40000" AUDIO_ID="AAAA" TITLE="Track One (Extended)" ARTIST="Artist One &amp; Two"><LOCATION DIR="/:Users/:dj/:Music/:Set A/:" FILE="One &amp; Two - Track One.mp3" VOLUME="Macintosh HD" VOLUMEID="Macintosh HD"></LOCATION>
<ALBUM TRACK="1" TITLE="Track One"></ALBUM>
<MODIFICATION_INFO AUTHOR_TYPE="user"></MODIFICATION_INFO>
<INFO BITRATE="320000" GENRE="House" LABEL="Label One" COMMENT="Bought online" COVERARTID="000/AAAA" KEY="6m" PLAYCOUNT="7" PLAYTIME="371" PLAYTIME_FLOAT="370.991028" RANKING="204" IMPORT_DATE="2026/1/1" LAST_PLAYED="2026/12/5" FLAGS="14" FILESIZE="14696" COLOR="4"></INFO>
<TEMPO BPM="139.999924" BPM_QUALITY="100.000000"></TEMPO>
<LOUDNESS PEAK_DB="-0.662714" PERCEIVED_DB="-0.256721" ANALYZED_DB="-0.256721"></LOUDNESS>
<MUSICAL_KEY VALUE="20"></MUSICAL_KEY>
<CUE_V2 NAME="AutoGrid" DISPL_ORDER="0" TYPE="4" START="128.945395" LEN="0.000000" REPEATS="-1" HOTCUE="0"><GRID BPM="139.999924"></GRID></CUE_V2>
<CUE_V2 NAME="Beat Marker" DISPL_ORDER="0" TYPE="4" START="96128.945395" LEN="0.000000" REPEATS="-1" HOTCUE="-1"><GRID BPM="141.000000"></GRID></CUE_V2>
<CUE_V2 NAME="Drop" DISPL_ORDER="0" TYPE="0" START="64025.5" LEN="0.000000" REPEATS="-1" HOTCUE="1"></CUE_V2>
<CUE_V2 NAME="n.n." DISPL_ORDER="0" TYPE="5" START="15692.870830" LEN="3840.003047" REPEATS="-1" HOTCUE="2"></CUE_V2>
<CUE_V2 NAME="n.n." DISPL_ORDER="0" TYPE="0" START="310.000000" LEN="0.000000" REPEATS="-1" HOTCUE="-1"></CUE_V2>
<CUE_V2 NAME="Fade-In" DISPL_ORDER="0" TYPE="1" START="4172.861689" LEN="0.000000" REPEATS="-1" HOTCUE="-1"></CUE_V2>
<CUE_V2 NAME="Load" DISPL_ORDER="0" TYPE="3" START="11852.867783" LEN="0.000000" REPEATS="-1" HOTCUE="-1"></CUE_V2>
<STEMS STEMS="{}"></STEMS>
</ENTRY>
<ENTRY MODIFIED_DATE="2026/11/30" MODIFIED_TIME="40000" TITLE="B Side" ARTIST="B"><LOCATION DIR="/:DJ/:Tracks/:" FILE="b.wav" VOLUME="C:" VOLUMEID="C:"></LOCATION>
<INFO BITRATE="1411000" PLAYTIME="295" FILESIZE="51200"></INFO>
<TEMPO BPM="124.000000" BPM_QUALITY="100.000000"></TEMPO>
<MUSICAL_KEY VALUE="0"></MUSICAL_KEY>
<CUE_V2 NAME="AutoGrid" DISPL_ORDER="0" TYPE="4" START="50.000000" LEN="0.000000" REPEATS="-1" HOTCUE="-1"></CUE_V2>
</ENTRY>
<ENTRY TITLE="Stick"><LOCATION DIR="/:Sets/:" FILE="c.aiff" VOLUME="USB Stick" VOLUMEID="4a3b"></LOCATION>
<INFO KEY="10m"></INFO>
<MUSICAL_KEY VALUE="23"></MUSICAL_KEY>
</ENTRY>
</COLLECTION>
<SETS ENTRIES="0"></SETS>
<PLAYLISTS><NODE TYPE="FOLDER" NAME="$ROOT"><SUBNODES COUNT="4"><NODE TYPE="FOLDER" NAME="Gigs"><SUBNODES COUNT="2"><NODE TYPE="PLAYLIST" NAME="Friday"><PLAYLIST ENTRIES="3" TYPE="LIST" UUID="0123456789abcdef0123456789abcdef"><ENTRY><PRIMARYKEY TYPE="TRACK" KEY="Macintosh HD/:Users/:dj/:Music/:Set A/:One &amp; Two - Track One.mp3"></PRIMARYKEY>
</ENTRY>
<ENTRY><PRIMARYKEY TYPE="TRACK" KEY="C:/:DJ/:Tracks/:b.wav"></PRIMARYKEY>
</ENTRY>
<ENTRY><PRIMARYKEY TYPE="TRACK" KEY="USB Stick/:Sets/:gone.mp3"></PRIMARYKEY>
</ENTRY>
</PLAYLIST>
</NODE>
<NODE TYPE="SMARTLIST" NAME="Recent"><SMARTLIST UUID="aa"><SEARCH_EXPRESSION VERSION="1" QUERY="$IMPORTDATE &gt; 30"></SEARCH_EXPRESSION></SMARTLIST></NODE>
</SUBNODES>
</NODE>
<NODE TYPE="PLAYLIST" NAME="HISTORY"><PLAYLIST ENTRIES="2" TYPE="PROTOCOL" UUID="fedcba9876543210fedcba9876543210"><ENTRY><PRIMARYKEY TYPE="TRACK" KEY="C:/:DJ/:Tracks/:b.wav"></PRIMARYKEY>
<EXTENDEDDATA DECK="1" DURATION="241.700394" EXTENDEDTYPE="HistoryData" PLAYEDPUBLIC="1" STARTDATE="${DEC_5_2026}" STARTTIME="79200"></EXTENDEDDATA>
</ENTRY>
<ENTRY><PRIMARYKEY TYPE="TRACK" KEY="Macintosh HD/:Users/:dj/:Music/:Set A/:One &amp; Two - Track One.mp3"></PRIMARYKEY>
<EXTENDEDDATA DECK="0" DURATION="19.6480026" EXTENDEDTYPE="HistoryData" PLAYEDPUBLIC="0" STARTDATE="${DEC_5_2026}" STARTTIME="79441"></EXTENDEDDATA>
</ENTRY>
</PLAYLIST>
</NODE>
<NODE TYPE="FOLDER" NAME="Archive"><SUBNODES COUNT="1"><NODE TYPE="PLAYLIST" NAME="history_2026y12m04d"><PLAYLIST ENTRIES="1" TYPE="LIST" UUID="11"><ENTRY><PRIMARYKEY TYPE="TRACK" KEY="USB Stick/:Sets/:c.aiff"></PRIMARYKEY>
<EXTENDEDDATA DECK="2" DURATION="300" EXTENDEDTYPE="HistoryData" PLAYEDPUBLIC="1" STARTDATE="0" STARTTIME="0"></EXTENDEDDATA>
</ENTRY>
</PLAYLIST>
</NODE>
</SUBNODES>
</NODE>
<NODE TYPE="PLAYLIST" NAME="_LOOPS"><PLAYLIST ENTRIES="0" TYPE="LIST" UUID="22"></PLAYLIST>
</NODE>
</SUBNODES></NODE></PLAYLISTS>
<INDEXING></INDEXING>
</NML>
`
