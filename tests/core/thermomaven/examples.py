"""The example messages of §6 of the protocol notes, verbatim (hence the long lines)."""

# ruff: noqa: E501

LOGIN = b"""{"code":"0","msg":"Your request has been successful.",
 "data":{"token":"3f9c2b7e1d4a4e0f9b8c7d6e5f4a3b2c","userId":291300000000000001,
  "user":{"userName":"Pit Master","userEmail":"user@example.com","passwordExists":true},
  "setting":{"temperatureUnit":"F"},"loginType":"email","userAction":null}}"""

SIGN_ERROR = b'{"code":"40000","msg":"Sign error","data":null}'

CERT_APPLY = b"""{"code":"0","msg":"Your request has been successful.",
 "data":{"p12Url":"https://file.iot.thermomaven.com/mqtt-cert/2026/05/02/8f1e2d3c4b5a.p12",
  "p12Md5":"9e107d9d372bb6826bd81d3542a419d6","p12Password":"c4ca4238a0b923820dcc509a6f75849b",
  "clientId":"android-291300000000000001-US-0123456789abcdef0123456789abcdef",
  "subTopics":["app/user/291300000000000001/sub"]}}"""

SHARED_LIST = b"""{"code":"0","msg":"Your request has been successful.",
 "data":[{"deviceShareId":243700000000000001,"deviceSn":"WTA0CC30A14A6B2ESA","deviceName":"ThermoMaven G1 - 2ESA",
  "deviceModel":"WT10","fromUserName":"Owner Name","shareStatus":"accepted"}]}"""

DEVICE_LIST = b"""{"cmdId":"5b0e0c1a2f3d4e5f60718293a4b5c6d7","cmdSeqNo":-1,"cmdType":"user:device:list",
 "serverTime":1777700000000,"serverTimeSecond":1777700000,"deviceType":"user","userId":"291300000000000001",
 "cmdData":{"devices":[
  {"deviceId":"216510650012434433","deviceSn":"WTB1AA0000000001","deviceName":"Grill thermo","deviceModel":"WT11",
   "deviceLogo":"https://file.iot.thermomaven.com/logo/WT11.png","firmwareVersionCode":10,"bindTime":1770000000000,
   "shareFlag":0,"subTopics":["device/WT11/216510650012434433/pub"],
   "lastStatusCmd":{"cmdType":"WT11:status:report","deviceId":"216510650012434433","deviceModel":"WT11",
     "serverTime":1777699990000,"serverTimeSecond":1777699990,
     "cmdData":{"globalStatus":"online","batteryStatus":"normal","batteryValue":78,"wifiRssi":-52,
       "hasWifiConfig":true,"connectStatus":"both","volume":"high",
       "probes":[{"probeColor":"probe1","cookingState":"charged","cookingMode":"smart",
                  "setParams":[{"setTemperature":2030}]}]}}},
  {"deviceId":"216510650099999999","deviceSn":"WTG4BB0000000002","deviceName":"Smoker G4","deviceModel":"WT09",
   "firmwareVersionCode":12,"shareFlag":1,"subTopics":["device/WT09/216510650099999999/pub"],
   "lastStatusCmd":{"cmdType":"WT09:status:report","cmdData":{"globalStatus":"offline"},"serverTime":1777600000000}}]}}"""

STATUS_REPORT = b"""{"cmdId":"a1b2c3d4e5f60718293a4b5c6d7e8f90","cmdSeqNo":"5523","cmdType":"WT09:status:report",
 "deviceId":"216510650099999999","deviceType":"thermometer","deviceModel":"WT09","userId":"291300000000000001",
 "serverTime":1777700012000,"serverTimeSecond":1777700012,"deviceTime":1777700011000,"deviceTimeSecond":1777700011,
 "appVersion":"12","controlBoardVersion":"10",
 "cmdData":{"globalStatus":"online","batteryStatus":"normal","batteryValue":64,"wifiRssi":-61,"hasWifiConfig":true,
  "connectStatus":"wifi","volume":"medium","probes":[
   {"probeColor":"probe1","deviceSn":"WPGA000000000001","probeNotes":"Brisket","cookingState":"cooking","cookingMode":"smart",
    "cookUuid":"0f8e7d6c5b4a39281706f5e4d3c2b1a0","startClient":"android","setParams":[{"setTemperature":2030}],
    "curTemperature":1605,"areaTemperature":[1605,1622,1650,1741,2180],"curAmbientTemperature":2384,
    "temperaturePercentile":[3,0,2,6,1,7,0],"batteryValue":88,"totalCookSec":54000,"curCookSec":21480,
    "curRemainedSec":9120,"cooking":true,"overheat":false},
   {"probeColor":"probe2","deviceSn":"WPGA000000000002","cookingState":"cooking","cookingMode":"manual",
    "cookUuid":"1a2b3c4d5e6f708192a3b4c5d6e7f801","startClient":"device","setParams":[{"setTemperature":1650}],
    "curTemperature":1420,"areaTemperature":[1420,1433,1460,1512,1690],"curAmbientTemperature":2350,
    "temperaturePercentile":[2,0,1,5,1,6,0],"batteryValue":71,"totalCookSec":7200,"curCookSec":3600,
    "curRemainedSec":null,"cooking":true,"overheat":false},
   {"probeColor":"probe3","cookingState":"charged","cookingMode":"smart","setParams":[{"setTemperature":2000}]},
   {"probeColor":"probe4","deviceSn":"WPGA000000000004","cookingState":"idle","cookingMode":"smart",
    "setParams":[{"setTemperature":1450}],"curTemperature":720,"areaTemperature":[720,721,722,722,723],
    "curAmbientTemperature":724,"batteryValue":100,"cooking":false,"overheat":false}]}}"""

COMMAND = b"""{"deviceId":"216510650012434433","deviceType":"thermometer","cmdType":"WT11:cooking:action",
 "cmdId":"c0ffee00c0ffee00c0ffee00c0ffee00",
 "cmdData":{"probeColor":"probe1","cookingAction":1,"cookingMode":"smart","cookUuid":"0f8e7d6c5b4a39281706f5e4d3c2b1a0",
  "startClient":"android","setParams":[{"setTemperature":2050}],
  "cookingData":{"dataType":"manual","dataId":"","dataName":"Home Assistant cook","dataImgUrl":""}}}"""

RECEIPT = b"""{"cmdId":"77aa88bb99cc00dd11ee22ff33004411","cmdSeqNo":"5524","cmdType":"device:cmd:receipt",
 "deviceId":"216510650012434433","deviceModel":"WT11","userId":"291300000000000001","serverTime":1777700013000,
 "cmdData":{"cmdId":"c0ffee00c0ffee00c0ffee00c0ffee00","cmdType":"WT11:cooking:action",
  "executeResult":"success","errorCode":0,"cmdError":0}}"""
